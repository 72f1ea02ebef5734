// to_std_trace() — a lockgraph trace as an StdTrace (RAPID's model), for `lockgraph convert
// --to std` and for the predictive analyses (`analyze --races shb|wcp`) on lockgraph traces.
//
// Mapping (docs/prediction.md has the table): thread create -> fork, join -> join, a granted lock
// acquisition (exclusive or shared, blocking, try or timed) -> acq, release -> rel, a plain read
// or write (sized or range) -> r / w of one variable named after its start address (or its
// name). Threads are `T<tid>` (`P<n>T<tid>` with several processes), locks and variables keep
// their lockgraph names, locations are `file:line`.
// What STD cannot say is dropped and counted: semaphores, events, condition variables, barriers,
// pools, atomics, fences, annotations, fork between processes — races that only these order can
// then be reported — plus access sizes (overlap is by start address) and reader sharing.
// Cost: per event one hash lookup (thread, site, address: interned on first sight); memory for the
// name tables and one entry per distinct address.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <unordered_map>

#include "lockgraph/analyzer/model.hpp"
#include "lockgraph/analyzer/std_trace.hpp"
#include "lockgraph/analyzer/trace_set.hpp"

namespace lockgraph::analysis {

struct ConversionStats {
  std::uint64_t events = 0;      // lockgraph events replayed
  std::uint64_t converted = 0;   // STD events written
  std::uint64_t sync_dropped = 0;  // synchronization STD cannot express (see above)
};

// Converts events one at a time, in replay order, given the Model that has applied each one (for
// lock and variable names as the reports spell them). Rides along any replay: analyze()'s
// observer, or to_std_trace()'s own.
class StdConverter {
 public:
  StdConverter(const TraceSet& set, StdTrace* names, StdTrace::EventSink sink);
  void on_event(const Event& e, Model& model);
  const ConversionStats& stats() const noexcept { return stats_; }

 private:
  std::uint32_t thread(std::uint32_t process, std::uint64_t tid);
  std::uint32_t location(std::uint32_t process, std::uint32_t site);
  void emit(const Event& e, StdOp op, std::uint32_t target);

  const TraceSet& set_;
  StdTrace* names_;
  StdTrace::EventSink sink_;
  ConversionStats stats_;
  bool multi_process_;
  std::unordered_map<std::uint64_t, std::uint32_t> thread_ids_, site_ids_, var_ids_;  // keyed by (process, value)
};

// The whole trace in its own replay: every converted event goes to `sink`, the name tables fill
// `names`.
void to_std_trace(TraceSet& set, StdTrace* names, const StdTrace::EventSink& sink, ConversionStats* stats);

// STD -> lockgraph: writes the text form of a lockgraph trace (docs/trace-format.md), which
// `lockgraph analyze` reads like a recorded one, event by event as the STD parser streams them
// (`names` is the parser's table, filled before each event that uses a name).
// Mapping: one process; a thread named T<n> gets id n (so lockgraph -> STD -> lockgraph gives the
// ids back), any other name a fresh id and a thread_name; fork -> thread_create + thread_start,
// join -> thread_end of the child (once) + thread_join; acq/rel -> lock_create (at first use,
// type mutex, the STD name) + lock_acquired/lock_release; r/w -> var_name (at first use) +
// read/write of 8 bytes at a synthetic address per variable; location -> at=file:line (a bare
// number is a line of the STD file). begin/end are dropped and counted.
class StdToText {
 public:
  StdToText(const StdTrace& names, const std::string& std_name, std::ostream& out);
  ~StdToText();
  void on_event(const StdEvent& e);
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::uint64_t thread(std::uint32_t id);
  std::string at(std::uint32_t location) const;
  struct State;
  const StdTrace& names_;
  std::string std_name_;
  std::ostream& out_;
  std::unique_ptr<State> s_;
  std::uint64_t dropped_ = 0;
};

}  // namespace lockgraph::analysis
