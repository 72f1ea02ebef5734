// Eraser's lockset view over STD traces (`--races lockset`; Savage, Burrows, Nelson, Sobalvarro,
// Anderson, "Eraser: A Dynamic Data Race Detector for Multithreaded Programs", SOSP 1997), the
// same rules as the unprotected_write detector on lockgraph traces: a variable is its first
// thread's alone (initialization needs no lock) until a second thread touches it; from then on
// its candidate lockset is intersected at every access; written by two or more threads with an
// empty candidate set, it is reported once, naming the first two writers. An access ordered
// after every earlier one by fork/join starts the variable afresh (ownership handed over).
// Not a race analysis in the sound sense — it flags missing lock discipline, also when this
// run's timing ordered the accesses — so its findings are unprotected_write (warnings).
// Internal to predictive/; used through RacePredictor with RaceAnalysis::kLockset.
// Cost: per access O(locks held + threads that touched the variable).
#pragma once

#include <memory>

#include "lockgraph/analyzer/std_trace.hpp"
#include "race_pairs.hpp"

namespace lockgraph::analysis::predictive {

class LocksetPredictor {
 public:
  LocksetPredictor();
  ~LocksetPredictor();
  void on_event(const StdEvent& e);
  RacePairs races;  // (variable, first writer's location, second writer's location): accesses after the set emptied

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace lockgraph::analysis::predictive
