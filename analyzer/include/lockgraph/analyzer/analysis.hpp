// analyze() — replays a TraceSet through the Model and every detector, and returns the findings.
//
//   Problem fatal;
//   auto set = TraceSet::open({"lockgraph-trace"}, &fatal);
//   AnalysisResult r = analyze(*set);
//   for (const Finding& f : r.findings) ...
//
// Detectors (one source file each under analyzer/src/detectors/):
//   lock_order.cpp      deadlock_potential, lock_order_inversion (lock-order graph + HB filter)
//   races.cpp           data_race (FastTrack over recorded accesses)
//   lockset.cpp         unprotected_write (Eraser lockset refinement)
//   misuse.cpp          lock_misuse
//   actual_deadlock.cpp deadlock_actual (watchdog records and threads blocked at the end)
// Contention statistics are gathered by the Model itself (lockgraph stats).
// Cost: one pass over the trace; memory bounded by threads, locks and live shared addresses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lockgraph/analyzer/finding.hpp"
#include "lockgraph/analyzer/timeline.hpp"
#include "lockgraph/analyzer/trace_set.hpp"

namespace lockgraph::analysis {

// What `analyze --static` found in the source for a run's edge.
enum class SourceCheck { kUnknown, kConfirmed, kNotInSource };

struct LockOrderEdge {
  std::string from;
  std::string to;
  std::vector<std::string> labels;  // "thread 2 at a.cpp:10 -> a.cpp:12"
  bool in_cycle = false;
  std::uint64_t count = 0;           // acquisitions that made this edge
  std::vector<std::string> gates;    // other locks held on every one of them
  bool held_shared = false;          // `from` was held shared on every one of them
  bool acquired_shared = false;      // `to` was acquired shared on every one of them
  Location held_at;                  // the first one: where `from` was taken, by which thread
  Location acquired_at;              // ... and where `to` was
  SourceCheck source = SourceCheck::kUnknown;
};

struct LockStats {
  std::string name;
  Location created_at;               // the lock's creation site (its declaration, for globals and members)
  std::uint64_t acquisitions = 0;
  std::uint64_t contended = 0;
  std::uint64_t wait_total_ns = 0;
  std::uint64_t wait_max_ns = 0;
  std::uint64_t hold_total_ns = 0;   // over timed holds; see holds_timed
  std::uint64_t hold_max_ns = 0;
  std::uint64_t holds_timed = 0;
  double held_share = 0;             // estimated share of the run time the lock was held
};

struct ThreadStats {
  std::string name;
  std::uint64_t blocked_ns = 0;
};

struct AnalysisResult {
  std::vector<Finding> findings;          // sorted: severity, kind, then smallest cycle first
  std::vector<LockOrderEdge> graph;       // the lock-order graph (for DOT)
  std::vector<LockStats> locks;           // contention
  std::vector<ThreadStats> threads;
  Timeline timeline;                      // timed holds and waits per thread (HTML report)
  std::uint64_t events = 0;
  std::uint64_t run_ns = 0;
  std::vector<Problem> problems;          // damage and gaps; the analysis covers the rest
};

// `progress(done, total)` is called every 65,536 events (total: TraceSet::record_count()).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;
// Sees every event of the same replay after the Model applied it (e.g. the STD converter for
// `--races shb|wcp`), so a second consumer needs no second pass over the trace.
class Model;
using EventObserver = std::function<void(const Event& e, Model& model)>;
AnalysisResult analyze(TraceSet& set, const ProgressFn& progress = {}, const EventObserver& observer = {});

// For a process that ends after its report (the CLI): analyze() then leaves its working state —
// the model and the detectors' shadow tables, tens of thousands of small blocks — to the
// process's end instead of freeing it (what compilers call -disable-free): freeing took 7 ms of
// the 10^6-event benchmark's 150. Off by default: library users and tests free everything.
// The STD predictors (RacePredictor, DeadlockPredictor) follow the same setting in their
// destructors: syncp's candidate lists alone are ~130,000 blocks at 10^6 events.
void leave_analysis_state_to_process_exit(bool leave) noexcept;
bool analysis_state_left_to_process_exit() noexcept;

// The report order: severity, then kind (deadlock_actual first: what hung the run; then finding.hpp's order),
// then the smallest cycle first.
// analyze() returns findings sorted; callers that add findings sort again.
void sort_findings(std::vector<Finding>& findings);

}  // namespace lockgraph::analysis
