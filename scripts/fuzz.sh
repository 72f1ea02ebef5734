#!/usr/bin/env bash
# Fuzzes the trace reader and the text-form parser (+ the whole analysis) with libFuzzer under
# ASan+UBSan, each for SECONDS (default 60; CI uses 60, a longer hunt: `scripts/fuzz.sh 3600`).
# The seed corpus is made of real traces: the lecture demos run under the tracer (binary traces)
# and `lockgraph dump` of them (text form), plus every past crash under tests/fuzz/regressions/.
# A crash leaves the input in build/fuzz/artifacts/ and fails the script; copy it to
# tests/fuzz/regressions/{reader,text}/ once fixed so every build's tests replay it.
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
mkdir -p "$corpus/reader" "$corpus/text" "$artifacts"
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
cp tests/fuzz/regressions/reader/* "$corpus/reader/" 2>/dev/null || true
cp tests/fuzz/regressions/text/* "$corpus/text/" 2>/dev/null || true
echo "fuzz: seeds: $(ls "$corpus/reader" | wc -l) binary traces, $(ls "$corpus/text" | wc -l) text traces"

status=0
for target in reader text; do
  bin=build/fuzz/tests/fuzz/fuzz_trace_reader
  [ "$target" = text ] && bin=build/fuzz/tests/fuzz/fuzz_text_form
  log="build/fuzz/$target.log"
  echo "fuzz: $target for ${secs}s"
  if ! "$bin" "$corpus/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
       -print_final_stats=1 -artifact_prefix="$artifacts/$target-" >"$log" 2>&1; then
    echo "fuzz: $target FAILED (input in $artifacts, log $log):"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -20
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$log" | tail -2 | sed "s/^/fuzz: $target: /"
done
exit $status
