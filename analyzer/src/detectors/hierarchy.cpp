// hierarchy_violation: a run's acquisitions against a declared lock order (analyze --hierarchy).
// Acquiring X while holding Y is a violation when the declared order reaches Y from X, i.e. X
// must be taken before Y. Locks the file does not name are unconstrained.
#include <deque>
#include <map>

#include "lockgraph/analyzer/hierarchy.hpp"

namespace lockgraph::analysis {

std::vector<Finding> LockHierarchy::check(const AnalysisResult& result) const {
  std::map<std::string, std::vector<std::size_t>> out_edges;  // lock -> indices into order
  for (std::size_t i = 0; i < order.size(); ++i) out_edges[order[i].first].push_back(i);
  // The declared path from `from` to `to` (indices into order), empty when there is none.
  auto path = [&](const std::string& from, const std::string& to) {
    std::map<std::string, std::size_t> via;  // lock -> order index that reached it
    std::deque<std::string> queue{from};
    std::map<std::string, bool> seen{{from, true}};
    while (!queue.empty()) {
      std::string u = queue.front();
      queue.pop_front();
      if (u == to) break;
      for (std::size_t i : out_edges[u]) {
        const std::string& v = order[i].second;
        if (seen[v]) continue;
        seen[v] = true;
        via[v] = i;
        queue.push_back(v);
      }
    }
    std::vector<std::size_t> p;
    if (!via.count(to)) return p;
    for (std::string at = to; at != from; at = order[via[at]].first) p.insert(p.begin(), via[at]);
    return p;
  };
  std::vector<Finding> findings;
  for (const LockOrderEdge& e : result.graph) {
    // e: `e.to` acquired while `e.from` held. Wrong when the file puts e.to before e.from.
    if (e.from == e.to) continue;
    std::vector<std::size_t> p = path(e.to, e.from);
    if (p.empty()) continue;
    std::string declared = e.to;
    std::string lines;
    for (std::size_t i : p) {
      declared += " -> " + order[i].second;
      if (order_lines[i] != 0) lines += (lines.empty() ? "" : ",") + std::to_string(order_lines[i]);
    }
    Finding f;
    f.kind = std::string(kHierarchyViolation);
    f.severity = Severity::kError;
    f.objects = {e.from, e.to};
    f.threads = {e.held_at.thread};
    Location a = e.held_at, b = e.acquired_at;
    a.role = "holds " + e.from;
    b.role = "then acquires " + e.to;
    b.locks_held = e.gates;
    b.locks_held.push_back(e.from);
    f.locations.push_back(std::move(a));
    f.locations.push_back(std::move(b));
    f.count = e.count;
    f.message = "acquired " + e.to + " while holding " + e.from + ", against the declared lock hierarchy " + declared +
                " (" + source + (lines.empty() ? "" : ":" + lines) + ")";
    f.advice = "Take " + e.to + " before " + e.from + " on this path, or, if the new order is intended everywhere, change "
               "the hierarchy file (every other path must then follow it too).";
    assign_fingerprint(f);
    findings.push_back(std::move(f));
  }
  return findings;
}

}  // namespace lockgraph::analysis
