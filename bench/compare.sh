#!/usr/bin/env bash
# Runs the tracer benchmarks (traced vs std::mutex vs std::mutex under -fsanitize=thread) and the
# analyzer throughput on generated traces, in one run, and prints the ratios.
#   bench/compare.sh [EVENTS...]   (default: 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset bench >/dev/null
cmake --build --preset bench >/dev/null
b=build/bench/bench
echo "memory latency before (bench/memory_latency.cpp):"
$b/bench_memory_latency
tmp=$(mktemp -d /tmp/lockgraph-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
LOCKGRAPH_TRACE_DIR=$tmp/t1 $b/bench_tracer --benchmark_format=json --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true > "$tmp/traced.json"
# The same traced cases with the trace in memory (tmpfs): the difference is the disk's writeback.
shm=$(mktemp -d /dev/shm/lockgraph-bench-XXXXXX)
LOCKGRAPH_TRACE_DIR=$shm/t $b/bench_tracer --benchmark_filter='Traced|Recorded' --benchmark_format=json \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true > "$tmp/shm.json"
rm -rf "$shm"
[ -x $b/bench_std_tsan ] && $b/bench_std_tsan --benchmark_format=json --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true > "$tmp/tsan.json" 2>/dev/null
python3 - "$tmp" <<'PY'
import json, sys, os
tmp = sys.argv[1]
def load(name):
    p = os.path.join(tmp, name)
    if not os.path.exists(p): return {}
    out = {}
    for b in json.load(open(p))["benchmarks"]:
        if b.get("aggregate_name") == "median":
            out[b["run_name"]] = b
    return out
t, s, m = load("traced.json"), load("tsan.json"), load("shm.json")
ns = lambda d, k: d[k]["real_time"] if k in d else float("nan")
print("tracer (median of 3, ns per operation; trace directory on the disk under /tmp; std::mutex in a process with threads)")
rows = [("uncontended lock+unlock", "BM_StdMutexUncontended", "BM_TracedMutexUncontended"),
        ("2 threads contended", "BM_StdMutexContended2/real_time/threads:2", "BM_TracedMutexContended2/real_time/threads:2")]
for label, std, traced in rows:
    a, b, c = ns(t, std), ns(t, traced), ns(s, std)
    print(f"  {label:26s} std {a:7.2f}  lockgraph {b:7.2f} ({b/a:4.2f}x std)  std under TSan {c:7.2f} ({c/b:4.2f}x lockgraph)")
one = ns(t, "BM_StdMutexUncontendedNoThreadEver")
print(f"  (std::mutex in a process that never started a thread: {one:.2f} ns; glibc then drops the lock prefix,"
      f" so the traced pair is {ns(t, 'BM_TracedMutexUncontended')/one:.2f}x that)")
print(f"  recorded access            {ns(t,'BM_RecordedAccess'):7.2f} ns (next array slot); scattered {ns(t,'BM_RecordedAccessScattered'):.2f} ns;"
      f" filtered repeat {ns(t,'BM_FilteredAccess'):.2f} ns; plain access {ns(t,'BM_PlainAccess'):.2f} ns (TSan {ns(s,'BM_PlainAccess'):.2f} ns)")
print("  trace in /dev/shm (tmpfs):  uncontended lock+unlock %.2f ns (%.2fx std), contended %.2f ns, recorded access %.2f ns" % (
    ns(m, "BM_TracedMutexUncontended"), ns(m, "BM_TracedMutexUncontended") / ns(t, "BM_StdMutexUncontended"),
    ns(m, "BM_TracedMutexContended2/real_time/threads:2"), ns(m, "BM_RecordedAccess")))
u = t.get("BM_TracedMutexUncontended", {})
if "trace_bytes_per_op" in u:
    print(f"  trace bytes per lock+unlock: {u['trace_bytes_per_op']:.1f} (two records)")
acc = [(label, t.get(name, {}).get("trace_bytes_per_op")) for label, name in
       (("next array slot", "BM_RecordedAccess"), ("scattered", "BM_RecordedAccessScattered"))]
print("  trace bytes per recorded access: " + ", ".join(f"{v:.1f} ({label})" for label, v in acc if v is not None))
PY
for n in "${@:-1000000 10000000}"; do
  rm -rf "$tmp/gen"
  LOCKGRAPH_TRACE_DIR=$tmp/gen $b/bench_trace_gen "$n" >/dev/null
  events=$(build/bench/analyzer/lockgraph dump --stats "$tmp/gen" | awk '/^events:/ {print $2}')
  start=$(date +%s.%N)
  build/bench/analyzer/lockgraph analyze "$tmp/gen" --fail-on none >/dev/null
  end=$(date +%s.%N)
  python3 -c "e=$events; s=$end-$start; print(f'analyzer: {e} events in {s:.2f} s = {e/s/1e6:.2f} M events/s')"
done
echo "memory latency after:"
$b/bench_memory_latency
