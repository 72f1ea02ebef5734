#!/usr/bin/env bash
# Overhead on unmodified programs, side by side in one run (issue 5): the same sources built
#   plain            g++ -O2
#   instrumented     g++ -O2 $(lockgraph config --cxxflags), linked with --ldflags
#   tsan             clang++-14 -O2 -fsanitize=thread (the real ThreadSanitizer)
# and run plain, under `lockgraph run` (preload only), instrumented under `lockgraph run`, under
# TSan and under valgrind --tool=helgrind. Times are the program's wall time (best of 3); the
# lockgraph rows record into a trace exactly as `lockgraph run` does (LD_PRELOAD +
# LOCKGRAPH_TRACE_DIR), and the analysis time of that trace is shown separately. Then the same
# work (THREADS x ITERATIONS critical sections) on one thread: plain, preload, instrumented, TSan;
# and the test suite's clean programs (tests/unmodified/programs/clean.cpp) the same five ways.
#   bench/overhead.sh [THREADS ITERATIONS WORK]   (default: 2 1000000 50)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target lockgraph lockgraph_rt >/dev/null
lg=$PWD/build/release/analyzer/lockgraph
rt=$($lg config --preload)
args=("${1:-2}" "${2:-1000000}" "${3:-50}")
tmp=$(mktemp -d /tmp/lockgraph-overhead-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=bench/unmodified/lock_heavy.cpp
g++ -std=c++20 -O2 -pthread "$src" -o "$tmp/plain"
g++ -std=c++20 -O2 $($lg config --cxxflags) -c "$src" -o "$tmp/inst.o"
g++ "$tmp/inst.o" $($lg config --compiler g++ --ldflags) -o "$tmp/instrumented"
clang++-14 -std=c++20 -O2 -g -fsanitize=thread "$src" -o "$tmp/tsan"
g++ -std=c++20 -O2 bench/memory_latency.cpp -o "$tmp/memory_latency"  # the machine's state
echo "memory latency before:"
"$tmp/memory_latency"

best_of_3() {  # prints the best wall time in seconds of "$@"
  local best=
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    best=$(python3 -c "import sys; a=float(sys.argv[1])-float(sys.argv[2]); b=sys.argv[3]; print(a if not b or a<float(b) else b)" "$e" "$s" "$best")
  done
  echo "$best"
}
traced() {  # a fresh trace directory per run, as `lockgraph run` makes
  rm -rf "$tmp/trace"
  LD_PRELOAD=$rt LOCKGRAPH_TRACE_DIR=$tmp/trace "$@"
}

plain=$(best_of_3 "$tmp/plain" "${args[@]}")
preload=$(best_of_3 traced "$tmp/plain" "${args[@]}")
preload_analyze=$(best_of_3 "$lg" analyze "$tmp/trace")
preload_trace=$(du -sk "$tmp/trace" | cut -f1)
inst=$(best_of_3 traced "$tmp/instrumented" "${args[@]}")
inst_analyze=$(best_of_3 "$lg" analyze "$tmp/trace")
tsan=$(best_of_3 "$tmp/tsan" "${args[@]}")
# The same work on one thread: with two threads and little WORK the program mostly moves the
# mutexes' cache lines between the cores, and any third runnable thread (the trace writer, a
# shell loop) serializes them and makes it faster (docs/performance.md); one thread measures what
# each lock operation and access costs.
one_args=(1 "$(( ${args[0]} * ${args[1]} ))" "${args[2]}")
plain1=$(best_of_3 "$tmp/plain" "${one_args[@]}")
preload1=$(best_of_3 traced "$tmp/plain" "${one_args[@]}")
inst1=$(best_of_3 traced "$tmp/instrumented" "${one_args[@]}")
tsan1=$(best_of_3 "$tmp/tsan" "${one_args[@]}")
# The test suite's correctly synchronized programs (tests/unmodified/programs/clean.cpp), each
# scenario once, one process each as the suite runs them: what tracing costs a small program
# (start, trace file, writer thread) more than per operation.
suite_src=tests/unmodified/programs/clean.cpp
suite_inc=-Itests/unmodified/programs
g++ -std=c++20 -O2 -pthread $suite_inc "$suite_src" -o "$tmp/suite_plain"
g++ -std=c++20 -O2 $($lg config --cxxflags) $suite_inc -c "$suite_src" -o "$tmp/suite_inst.o"
g++ "$tmp/suite_inst.o" $($lg config --compiler g++ --ldflags) -o "$tmp/suite_instrumented"
clang++-14 -std=c++20 -O2 -g -fsanitize=thread $suite_inc "$suite_src" -o "$tmp/suite_tsan"
read -r -a scenarios <<<"$("$tmp/suite_plain" 2>&1 | sed 's/.*one of://')"
every_scenario() {  # runs "$@ SCENARIO" for each scenario; their verdicts are the test suite's business
  local scenario  # (best_of_3's own locals are visible here: bash scopes dynamically)
  for scenario in "${scenarios[@]}"; do "$@" "$scenario" >/dev/null 2>&1 || true; done
}
suite_plain=$(best_of_3 every_scenario "$tmp/suite_plain")
suite_preload=$(best_of_3 every_scenario traced "$tmp/suite_plain")
suite_inst=$(best_of_3 every_scenario traced "$tmp/suite_instrumented")
suite_tsan=$(best_of_3 every_scenario "$tmp/suite_tsan")
suite_helgrind=$(best_of_3 every_scenario valgrind --tool=helgrind "$tmp/suite_plain")

helgrind_args=("${args[0]}" "$(( ${args[1]} / 20 ))" "${args[2]}")
helgrind=$(best_of_3 valgrind --tool=helgrind "$tmp/plain" "${helgrind_args[@]}")
plain_small=$(best_of_3 "$tmp/plain" "${helgrind_args[@]}")

python3 - "$plain" "$preload" "$inst" "$tsan" "$helgrind" "$plain_small" "$preload_analyze" "$inst_analyze" "$preload_trace" \
  "$plain1" "$preload1" "$inst1" "$tsan1" "$suite_plain" "$suite_preload" "$suite_inst" "$suite_tsan" "$suite_helgrind" \
  "${#scenarios[@]}" "${args[@]}" <<'PY'
import sys
plain, preload, inst, tsan, helgrind, plain_small, pa, ia, kb, plain1, preload1, inst1, tsan1 = map(float, sys.argv[1:14])
s_plain, s_preload, s_inst, s_tsan, s_helgrind = map(float, sys.argv[14:19])
n_scenarios = sys.argv[19]
threads, iters, work = sys.argv[20:23]
print(f"lock_heavy: {threads} threads x {iters} critical sections, {work} work steps each (best of 3, wall s)")
print(f"  plain                     {plain:8.3f}")
print(f"  lockgraph run (preload)   {preload:8.3f}  {preload/plain:5.2f}x plain   TSan is {tsan/preload:5.2f}x slower"
      f"   (analysis {pa:.2f} s, trace {kb/1024:.1f} MiB)")
print(f"  lockgraph instrumented    {inst:8.3f}  {inst/plain:5.2f}x plain   TSan is {tsan/inst:5.2f}x slower   (analysis {ia:.2f} s)")
print(f"  -fsanitize=thread (TSan)  {tsan:8.3f}  {tsan/plain:5.2f}x plain")
print(f"  valgrind helgrind         {helgrind:8.3f}  {helgrind/plain_small:5.2f}x plain (on 1/20 of the iterations)")
print(f"one thread x {int(threads) * int(iters)} critical sections, {work} work steps each (best of 3, wall s)")
print(f"  plain                     {plain1:8.3f}")
print(f"  lockgraph run (preload)   {preload1:8.3f}  {preload1/plain1:5.2f}x plain   TSan is {tsan1/preload1:5.2f}x slower")
print(f"  lockgraph instrumented    {inst1:8.3f}  {inst1/plain1:5.2f}x plain   TSan is {tsan1/inst1:5.2f}x slower")
print(f"  -fsanitize=thread (TSan)  {tsan1:8.3f}  {tsan1/plain1:5.2f}x plain")
print(f"the test suite's clean programs: {n_scenarios} scenarios, one process each (best of 3, total wall s)")
print(f"  plain                     {s_plain:8.3f}")
print(f"  lockgraph run (preload)   {s_preload:8.3f}  {s_preload/s_plain:5.2f}x plain   TSan is {s_tsan/s_preload:5.2f}x slower")
print(f"  lockgraph instrumented    {s_inst:8.3f}  {s_inst/s_plain:5.2f}x plain   TSan is {s_tsan/s_inst:5.2f}x slower")
print(f"  -fsanitize=thread (TSan)  {s_tsan:8.3f}  {s_tsan/s_plain:5.2f}x plain")
print(f"  valgrind helgrind         {s_helgrind:8.3f}  {s_helgrind/s_plain:5.2f}x plain")
PY
echo "memory latency after:"
"$tmp/memory_latency"
