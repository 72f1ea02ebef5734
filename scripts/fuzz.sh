#!/usr/bin/env bash
# Fuzzes the trace reader, the text-form parser (+ the whole analysis) and the STD reader (+ the
# predictive analyses) with libFuzzer under
# ASan+UBSan, each for SECONDS (default 60; CI uses 60, a longer hunt: `scripts/fuzz.sh 3600`).
# The seed corpus is made of real traces: the lecture demos run under the tracer (binary traces)
# and `lockgraph dump` of them (text form), small `lockgraph generate` STD traces, plus every past
# crash under tests/fuzz/regressions/.
# A crash leaves the input in build/fuzz/artifacts/ and fails the script; copy it to
# tests/fuzz/regressions/{reader,text,std}/ once fixed so every build's tests replay it.
# Exit status: non-zero on any crash, leak, timeout or build failure.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
./scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
if [ ! -x build/release/analyzer/lockgraph ] || [ ! -x build/release/demos/deadlock ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target lockgraph deadlock race semaphore event pools rlock
fi

corpus=build/fuzz/corpus
artifacts=build/fuzz/artifacts
rm -rf "$corpus"
mkdir -p "$corpus/reader" "$corpus/text" "$corpus/std" "$artifacts"
seed() {  # seed NAME DEMO ARGS...: one real run -> its trace files and their text form
  local name="$1" tmp
  shift
  tmp="$(mktemp -d)"
  LOCKGRAPH_TRACE_DIR="$tmp/trace" LOCKGRAPH_TIMING=all "build/release/demos/$@" >/dev/null 2>&1 || true
  local i=0
  for f in "$tmp"/trace/*.trace; do
    [ -e "$f" ] || continue
    cp "$f" "$corpus/reader/$name-$i.trace"
    i=$((i + 1))
  done
  build/release/analyzer/lockgraph dump "$tmp/trace" > "$corpus/text/$name.txt" 2>/dev/null || true
  rm -rf "$tmp"
}
seed deadlock-staggered deadlock --mode staggered
seed deadlock-hang deadlock --mode hang
seed race race --mode unlocked
seed rlock rlock --mode rlock
seed semaphore semaphore
seed event event --mode threads
seed pools pools
for s in 1 2 3; do
  build/release/analyzer/lockgraph generate --events 300 --threads $((s + 1)) --locks 3 --variables 12 --nesting $s \
    --racy 0.2 --seed $s -o "$corpus/std/generated-$s.std"
done
printf 'T1|w(x)|10\nT1|acq(L)|11\nT1|rel(L)|12\nT2|acq(L)|20\nT2|rel(L)|21\nT2|w(x)|22\nT0|begin|1\nT0|fork(T1)|2\nT0|join(T1)|3\nT0|end|4\n' \
  > "$corpus/std/hidden.std"
cp tests/fuzz/regressions/std/* "$corpus/std/" 2>/dev/null || true
cp tests/fuzz/regressions/reader/* "$corpus/reader/" 2>/dev/null || true
cp tests/fuzz/regressions/text/* "$corpus/text/" 2>/dev/null || true
echo "fuzz: seeds: $(ls "$corpus/reader" | wc -l) binary traces, $(ls "$corpus/text" | wc -l) text traces, $(ls "$corpus/std" | wc -l) STD traces"

status=0
for target in reader text std; do
  bin=build/fuzz/tests/fuzz/fuzz_trace_reader
  [ "$target" = text ] && bin=build/fuzz/tests/fuzz/fuzz_text_form
  [ "$target" = std ] && bin=build/fuzz/tests/fuzz/fuzz_std
  log="build/fuzz/$target.log"
  echo "fuzz: $target for ${secs}s"
  max_len=262144
  [ "$target" = std ] && max_len=32768  # three analyses and nine reports per input: smaller, more of them
  if ! "$bin" "$corpus/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
       -print_final_stats=1 -artifact_prefix="$artifacts/$target-" >"$log" 2>&1; then
    echo "fuzz: $target FAILED (input in $artifacts, log $log):"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -20
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$log" | tail -2 | sed "s/^/fuzz: $target: /"
done
exit $status
