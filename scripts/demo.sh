#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs the lecture's AB/BA deadlock demo under the
# tracer (a real deadlock: the watchdog stops it) and prints lockgraph's report.
#   scripts/demo.sh [DEMO [ARGS...]]     e.g. scripts/demo.sh race --mode unlocked
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
demo=${1:-deadlock}
[ $# -gt 0 ] && shift
bin=build/release/demos/$demo
[ -x "$bin" ] || { echo "demo.sh: no demo '$demo' (see demos/README.md)" >&2; exit 2; }
trace=$(mktemp -d /tmp/lockgraph-demo-XXXXXX)
echo "== running $demo $* under the tracer (trace: $trace)"
set +e
LOCKGRAPH_TRACE_DIR=$trace "$bin" "$@"
status=$?
set -e
echo "== $demo exited with status $status"
echo "== lockgraph analyze $trace"
set +e
build/release/analyzer/lockgraph analyze "$trace" --html "$trace/report.html"
rc=$?
set -e
# 1 means "findings fail the gate": the expected outcome of a demo that shows a bug.
[ $rc -le 1 ] || exit $rc
echo "== the report is above; the same as one HTML page (source, graph, timeline): $trace/report.html"
echo "== the trace stays in $trace (lockgraph dump / stats / graph --svg / analyze --format json|sarif|dot|html)"
