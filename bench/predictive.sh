#!/usr/bin/env bash
# Side by side: the predictive race analyses on generated STD traces (issue 9).
# For each size: time and peak memory of parsing alone, then hb, shb, wcp and syncp (each run parses
# the file again: the numbers include parsing). 16 threads, 64 locks, 4,096 variables, 1% racy.
# "x hb": wcp's and syncp's time relative to hb's in the same run (issue 9's target: at most 3).
#   bench/predictive.sh [BUILD_DIR] [SIZES...]      (default: build/bench 1000000 10000000)
set -euo pipefail
build=${1:-build/bench}
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000 10000000)
cli="$build/analyzer/lockgraph"
[ -x "$cli" ] || { echo "predictive.sh: no $cli (build first)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
probe="$build/bench/bench_memory_latency"  # the machine's state: see bench/memory_latency.cpp
if [ -x "$probe" ]; then echo "memory latency before:"; "$probe"; fi
printf "%-10s %-8s %10s %12s %12s %10s %8s\n" events analysis seconds "Mevents/s" "peak MiB" findings "x hb"
for n in "${sizes[@]}"; do
  "$cli" generate --events "$n" --threads 16 --locks 64 --variables 4096 --racy 0.01 --seed 7 -o "$dir/t.std"
  for a in parse hb shb wcp syncp; do
    if [ "$a" = parse ]; then
      cmd=("$build/bench/bench_std_parse" "$dir/t.std")
    else
      cmd=("$cli" analyze --input-format std --races "$a" --fail-on none --format json -o "$dir/r.json" "$dir/t.std")
    fi
    /usr/bin/time -f "%e %M" -o "$dir/time" "${cmd[@]}" > /dev/null
    read -r secs kb < "$dir/time"
    found=-
    [ "$a" != parse ] && found=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$dir/r.json")
    rate=$(python3 -c "print(f'{$n / max($secs, 0.001) / 1e6:.1f}')")
    [ "$a" = hb ] && hb_secs=$secs
    ratio=-
    case $a in wcp|syncp) ratio=$(python3 -c "print(f'{$secs / max($hb_secs, 0.001):.1f}')") ;; esac
    printf "%-10s %-8s %10s %12s %12s %10s %8s\n" "$n" "$a" "$secs" "$rate" "$((kb / 1024))" "$found" "$ratio"
  done
done
if [ -x "$probe" ]; then echo "memory latency after:"; "$probe"; fi
