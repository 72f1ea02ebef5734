// SavedGraph — the lock-order graph of one or more runs, in a small JSON file
// (`lockgraph analyze --save-graph FILE`), merged across runs by `lockgraph merge`: an order A->B
// seen in one test and B->A in another is a cycle no single trace shows, found the way lockdep
// finds it across a kernel's uptime.
//
// Facts are kept per run (run id: a hash of the run's processes' pids, start times and programs),
// so merge() is associative, commutative and idempotent: any batch system can fan graphs in, in
// any grouping, and merging a graph with itself changes nothing.
//
// cross_run_cycles() reports a cycle only when no single run saw all of its edges: a run that did
// was already judged by its own analysis, with happens-before, which a merge no longer has.
// Cost: file size O(edges x runs that saw them); cycle search O(edges x (locks + edges)).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lockgraph/analyzer/analysis.hpp"

namespace lockgraph::analysis {

struct SavedObservation {  // what one run saw of one edge
  std::uint64_t count = 0;
  std::vector<std::string> gates;  // other locks held on every acquisition
  bool held_shared = false;
  bool acquired_shared = false;
  Location held_at;
  Location acquired_at;
};

struct SavedGraph {
  static constexpr int kVersion = 1;
  std::map<std::string, std::string> runs;  // run id -> "program (pid N)"
  // (from, to) -> run id -> observation
  std::map<std::pair<std::string, std::string>, std::map<std::string, SavedObservation>> edges;

  // The graph of one analyzed run.
  static SavedGraph from_analysis(const AnalysisResult& result, const TraceSet& set);
  // False with a one-line *error naming the file and what is wrong.
  static bool load(const std::string& path, SavedGraph* out, std::string* error);
  bool save(const std::string& path, std::string* error) const;

  void merge(const SavedGraph& other);
  // deadlock_potential findings for cycles that only several runs together close.
  std::vector<Finding> cross_run_cycles() const;
  // The merged graph as lock-order edges (for DOT / HTML); edges of `cycles` marked in_cycle.
  std::vector<LockOrderEdge> lock_order_edges(const std::vector<Finding>& cycles) const;
};

}  // namespace lockgraph::analysis
