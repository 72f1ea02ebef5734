// SyncP: sync-preserving race prediction (Mathur, Pavlogiannis, Viswanathan, "Optimal Prediction
// of Synchronization-Preserving Races", POPL 2021). Internal to predictive/; used through
// RacePredictor with RaceAnalysis::kSyncp.
//
// (e1, e2) is a sync-preserving race iff neither is in the sync-preserving closure of their
// thread predecessors (sync_ideal.hpp): that closure, run in trace order, then e1 and e2, is a
// real schedule. So every report is a real race — not only the first, unlike WCP — and, because
// reads keep their writes, a race that only an earlier race's reordering could produce is not
// reported.
//
// For each access e2 of thread t and each other thread u, the earliest conflicting access e1 of u
// that races with e2 is found: J_t, the closure of t's prefix, grows monotonically with t; e1
// candidates inside J_t, or shown inside the closure of (e1, e2) — directly, or because t later
// took a lock e1 held — can never race with a later access of t either, so a per (variable, t, u)
// cursor passes them once. Complete for racy accesses: every access in a sync-preserving race is
// reported (with its earliest partner per thread).
// Cost: memory for what can still matter — candidates and closure rules every closure in use has
// passed are let go of (State::forget_passed_rules), so on traces whose threads synchronize the
// memory follows the window between the slowest and the fastest closure, not the trace (the
// paper shows Omega(N / log^2 N) space is necessary in the worst case: a closure that never
// moves keeps everything after it). Time near-linear in practice, O(events x threads) closure
// steps per thread.
#pragma once

#include <memory>

#include "lockgraph/analyzer/std_trace.hpp"
#include "race_pairs.hpp"

namespace lockgraph::analysis::predictive {

// Bit u set where thread u's latest access (latest[u]: its index + 1, 0 for none) lies past
// frontier[u], for u < threads <= 64: the threads an access must check. Eight threads a step with
// AVX2 where the CPU has it, four with SSE2 otherwise (threads_outside_sse2: that path alone, so
// tests can compare both with the definition on any machine).
std::uint64_t threads_outside(const std::uint32_t* latest, const std::uint32_t* frontier, std::uint32_t threads);
std::uint64_t threads_outside_sse2(const std::uint32_t* latest, const std::uint32_t* frontier, std::uint32_t threads);
bool threads_outside_uses_avx2();

class SyncpPredictor {
 public:
  // Every `release_every` events, which accesses every thread is past is worked out, and those
  // are dropped (0: never).
  explicit SyncpPredictor(std::uint32_t release_every);
  ~SyncpPredictor();
  void on_event(const StdEvent& e);
  // The same for a batch (the fast path), with a look-ahead that starts loading the state of the
  // accesses 16, 6 and 2 events ahead, level by level: their own rows, their lists' tails and the
  // lists of the threads they will likely be checked against, then those lists' candidates at the
  // cursors (see State::prefetch_far).
  void on_events(const StdEvent* events, std::size_t count);
  // Threads that started after history they could need was let go of: first seen without a fork,
  // or forked by a thread whose closure had taken another thread whole. Races between them and
  // what was let go of were not looked for (see State::forget_passed_rules).
  std::uint32_t threads_started_without_their_history() const;
  // Candidates, closure rules and held-lock snapshot entries kept now: what grows with the
  // trace unless it is let go of (for tests of that bound; walks every list).
  std::size_t kept_entries() const;
  RacePairs races;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace lockgraph::analysis::predictive
