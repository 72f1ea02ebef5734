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

}  // namespace lockgraph::analysis
