// Internal: the interface every detector implements, and their factories. The analysis driver
// (analysis.cpp) calls before() with the Model as it was before the event, then Model::apply(),
// then after(); finish() once the replay is over.
#pragma once

#include <memory>
#include <vector>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/model.hpp"

namespace lockgraph::analysis {

class Detector {
 public:
  virtual ~Detector() = default;
  // The kinds of events before() and after() look at. The driver asks once per kind and then
  // calls a detector only for its kinds: an access event reaches two detectors, not five.
  virtual bool wants(Kind kind) const = 0;
  // Which of before() and after() it implements: the driver calls only that one (a virtual call
  // per event and detector is a tenth of the driver's time).
  enum class Hook { kBefore, kAfter };
  virtual Hook hook() const = 0;
  virtual void before(const Event&, Model&) {}
  virtual void after(const Event&, Model&) {}
  virtual void finish(Model& model, AnalysisResult& result) = 0;
};

std::unique_ptr<Detector> make_lock_order_detector();
std::unique_ptr<Detector> make_race_detector();
std::unique_ptr<Detector> make_lockset_detector();
std::unique_ptr<Detector> make_misuse_detector();
std::unique_ptr<Detector> make_actual_deadlock_detector();

}  // namespace lockgraph::analysis
