// Predictive race detection over an StdTrace — races in *other* interleavings of the same run.
//
//   hb    happens-before (vector clocks with FastTrack epochs; Flanagan & Freund, PLDI 2009):
//         only the races of the observed interleaving.
//   shb   schedulable happens-before (Mathur, Kini, Viswanathan, "What happens-after the first
//         race?", OOPSLA 2018): HB plus each read ordered after the write it read; every race it
//         reports up to the first is real, and later ones are not artifacts of an earlier race.
//   wcp   weak causally-precedes (Kini, Mathur, Viswanathan, "Dynamic race prediction in linear
//         time", PLDI 2017): critical sections are ordered only when they contain conflicting
//         accesses (and by the closure rules), so a race hidden behind an unrelated critical
//         section — which HB and ThreadSanitizer miss — is predicted. Sound for the first race.
//   syncp sync-preserving races (Mathur, Pavlogiannis, Viswanathan, "Optimal Prediction of
//         Synchronization-Preserving Races", POPL 2021): a race is reported iff a reordering
//         that keeps every lock's critical sections in trace order and every read's write runs
//         the two accesses back to back. Sound for every race, complete for that class; memory
//         linear in the trace.
//   lockset Eraser's lockset view (Savage et al., SOSP 1997): variables written by several
//         threads with no lock common to all accesses, as unprotected_write warnings — lock
//         discipline, not proof of a race.
// The default for STD input is wcp: sound and linear time.
//
// Result: data_race findings (unprotected_write for lockset), one per distinct pair of locations
// per variable, with a count.
// Cost: O(events x threads) time; memory O(threads x (locks + variables)) plus, for wcp, the
// critical sections not yet passed by every thread using their lock and one clock per
// (lock, variable) pair accessed inside it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/std_trace.hpp"

namespace lockgraph::analysis {

enum class RaceAnalysis { kHb, kShb, kWcp, kSyncp, kLockset };
bool parse_race_analysis(std::string_view name, RaceAnalysis* out);
std::string_view race_analysis_name(RaceAnalysis a);

// Streaming: feed events in trace order, then finish() with the name tables. Nothing per event
// is kept. `trace_name` is where numeric locations point (the STD file).
// wcp keeps each lock's (variable, lock) pairs in a dense table indexed by variable, 16 bytes a
// pair, while all those tables together hold at most this many pairs; the pairs of locks past
// that go to a hash map (the same answers, slower). Tests pass small budgets to cover the switch.
inline constexpr std::size_t kWcpDensePairs = std::size_t(1) << 22;  // 64 MiB

// syncp lets go of accesses every thread's closure has passed (they can race with nothing any
// more), checking which every this many events; 0 keeps every access (tests compare the two).
inline constexpr std::uint32_t kSyncpReleaseEvery = 4096;

class RacePredictor {
 public:
  explicit RacePredictor(RaceAnalysis analysis, std::size_t wcp_dense_pairs = kWcpDensePairs,
                         std::uint32_t syncp_release_every = kSyncpReleaseEvery);
  ~RacePredictor();
  RacePredictor(const RacePredictor&) = delete;
  RacePredictor& operator=(const RacePredictor&) = delete;
  void on_event(const StdEvent& e);
  void on_events(const StdEvent* events, std::size_t count);  // the same, a batch at a time (faster)
  AnalysisResult finish(const StdTrace& names, const std::string& trace_name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where an STD location points: `file:line`, a bare number (a line of `trace_name`) or a name.
Location std_location(const StdTrace& trace, std::uint32_t location, const std::string& trace_name);

// All of trace.events at once.
AnalysisResult predict_races(const StdTrace& trace, RaceAnalysis analysis, const std::string& trace_name);

}  // namespace lockgraph::analysis
