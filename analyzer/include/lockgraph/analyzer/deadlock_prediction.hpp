// Sound deadlock prediction over STD traces: sync-preserving deadlocks (Tunç, Mathur,
// Pavlogiannis, Viswanathan, "Sound Dynamic Deadlock Prediction in Linear Time", PLDI 2023 —
// SPDOffline).
//
// A lock-order cycle (threads t1..tk, each holding l_i while acquiring l_{i+1}) is a real
// deadlock if some reordering of the trace that keeps every lock's critical sections in their
// order and every read's write reaches a state where each t_i holds l_i and waits for l_{i+1}.
// Such a cycle is reported as `deadlock_predicted` with that schedule as its witness
// (Finding::witness; `lockgraph explain` prints it). Cycles of distinct threads, not under a
// common gate lock, with no such reordering are `deadlock_potential` (they may still be false
// alarms). Cycles within one thread are not reported.
//
// Two passes over the events: the first collects the lock-order edges (memory: one entry per
// distinct (thread, held lock, acquired lock)); only if they form a cycle does the second build
// the closure's history (sync_ideal: 16 bytes per acquire and cross-thread read) and keep the
// lock operations for the witness. Candidate event tuples per cycle are tried in trace order,
// up to `tuple_budget` closure checks and `work_budget` closure steps in all; a cycle not decided
// within them stays potential and says so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/std_trace.hpp"

namespace lockgraph::analysis {

struct DeadlockPredictionOptions {
  std::uint32_t max_cycle_length = 4;     // locks per cycle
  std::uint64_t tuple_budget = 200'000;   // closure checks over all cycles
  std::uint64_t work_budget = 400'000'000;  // closure rules applied over all checks (about a second)
  std::uint32_t instances_per_edge = 4096;  // concrete acquisitions kept per (thread, held, acquired)
  std::size_t witness_steps = 2000;       // lock operations kept in a witness (the last ones)
};

// Streams the trace's events to `sink` (once or twice); `names` has the name tables.
using StdReplay = std::function<void(const StdTrace::EventSink& sink)>;

// Streaming: on_event() for every event in trace order (the first pass, which can ride along a
// race analysis's), then finish(), which replays the events a second time only if there is a cycle.
class DeadlockPredictor {
 public:
  explicit DeadlockPredictor(const DeadlockPredictionOptions& options = {});
  ~DeadlockPredictor();
  DeadlockPredictor(const DeadlockPredictor&) = delete;
  DeadlockPredictor& operator=(const DeadlockPredictor&) = delete;
  void on_event(const StdEvent& e);
  void on_events(const StdEvent* events, std::size_t count);  // the same, a batch at a time (faster)
  AnalysisResult finish(const StdReplay& replay, const StdTrace& names, const std::string& trace_name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// All of trace.events at once.
AnalysisResult predict_deadlocks(const StdTrace& trace, const std::string& trace_name,
                                 const DeadlockPredictionOptions& options = {});

}  // namespace lockgraph::analysis
