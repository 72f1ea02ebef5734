// LockHierarchy — a declared lock order. `lockgraph hierarchy` derives one from the observed
// order (a run's lock-order graph or a saved scan) and writes it two ways: a plain file that
// `lockgraph analyze --hierarchy FILE` enforces, and Clang Thread Safety Analysis attribute
// suggestions (ACQUIRED_BEFORE / ACQUIRED_AFTER) for each global or member's declaration.
//
// File format (docs/user-guide.md): one "BEFORE -> AFTER" per line — AFTER may be acquired while
// BEFORE is held, never the reverse; the order is transitive; `#` starts a comment. Locks taken
// in both orders cannot be ordered: derive() leaves them out and lists them as cycles.
// check(): every acquisition of X while holding Y where the file orders X (transitively) before
// Y is a hierarchy_violation finding. Cost: derive and check O(locks x (locks + edges)).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lockgraph/analyzer/analysis.hpp"

namespace lockgraph::analysis {

struct LockHierarchy {
  std::vector<std::pair<std::string, std::string>> order;  // before -> after, transitively reduced by derive()
  std::vector<unsigned> order_lines;                        // where each was declared (load()); 0 when derived
  std::vector<std::vector<std::string>> cycles;             // derive(): lock sets taken in both orders
  std::map<std::string, Location> declared_at;              // declarations, for the TSA suggestions
  std::string source;                                       // file it was loaded from / derived from

  static LockHierarchy derive(const std::vector<std::pair<std::string, std::string>>& edges,
                              std::map<std::string, Location> declared_at, std::string source);
  std::string render() const;      // the enforceable file
  std::string render_tsa() const;  // "file:line: LOCK: add ACQUIRED_BEFORE(...)" per declaration
  // False with a one-line *error "FILE:LINE: reason" (or "FILE: ..." for a cycle in the order).
  static bool load(const std::string& path, LockHierarchy* out, std::string* error);
  // hierarchy_violation findings for the run's lock-order edges (detectors/hierarchy.cpp).
  std::vector<Finding> check(const AnalysisResult& result) const;
};

}  // namespace lockgraph::analysis
