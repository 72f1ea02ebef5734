// deadlock_static: cycles in the lock order the source establishes (a StaticGraph from
// `lockgraph scan`), alone (`scan`) or closed together with a run's edges (`analyze --static`).
//
// The same Goodlock-style cycle search as the run's lock-order detector (smallest cycle through
// each edge, within one strongly connected component), without happens-before, which source has
// none of: only the gate-lock and reader-reader filters apply. A self-edge `C::m -> C::m` is two
// instances of one class taken nested through different objects (`from.m`, then `to.m`): the
// classic transfer deadlock, as lockdep reports nesting within one lock class.
#include <algorithm>
#include <map>
#include <set>

#include "graph_search.hpp"
#include "lockgraph/analyzer/static_graph.hpp"

namespace lockgraph::analysis {
namespace {

using Key = std::pair<std::string, std::string>;

std::string via(const Location& acquired) {
  if (acquired.stack.empty()) return "";
  std::string s = " (via ";
  for (std::size_t i = acquired.stack.size(); i-- > 0;) {
    std::string frame = acquired.stack[i];
    s += frame.substr(0, frame.find(" (")) + " -> ";
  }
  return s + acquired.function + ")";
}

// The two locations of one static edge, grouped under `group` in the text report.
void add_static_edge(Finding& f, const StaticEdge& e, const std::string& from, const std::string& to, const std::string& group,
                     const std::string& note) {
  Location a = e.held_at, b = e.acquired_at;
  a.role = "holds " + from + (e.held_shared ? " (shared)" : "");
  b.role = "then acquires " + to + (e.acquired_shared ? " (shared)" : "") + via(e.acquired_at) + note;
  a.thread = b.thread = group;
  b.locks_held = e.gates;
  b.locks_held.push_back(from);
  f.locations.push_back(std::move(a));
  f.locations.push_back(std::move(b));
}

// Gate locks held on every piece of evidence of every edge; and reader-reader hand-overs.
bool filtered(const std::vector<std::vector<const StaticEdge*>>& per_edge) {
  std::vector<std::string> common;
  bool first = true;
  for (const auto& ev : per_edge) {
    for (const StaticEdge* e : ev) {
      std::vector<std::string> g = e->gates;
      std::sort(g.begin(), g.end());
      if (first) {
        common = g;
        first = false;
        continue;
      }
      std::vector<std::string> both;
      std::set_intersection(common.begin(), common.end(), g.begin(), g.end(), std::back_inserter(both));
      common.swap(both);
    }
  }
  if (!common.empty()) return true;
  const std::size_t n = per_edge.size();
  for (std::size_t i = 0; i < n; ++i) {
    bool acq_shared = std::all_of(per_edge[i].begin(), per_edge[i].end(), [](const StaticEdge* e) { return e->acquired_shared; });
    const auto& next = per_edge[(i + 1) % n];
    bool held_shared = std::all_of(next.begin(), next.end(), [](const StaticEdge* e) { return e->held_shared; });
    if (acq_shared && held_shared) return true;
  }
  return false;
}

std::set<std::vector<std::string>> cycles_of(const Adjacency<std::string>& adj, const std::set<Key>& edges,
                                             const std::function<bool(const Key&)>& through) {
  std::map<std::string, std::uint32_t> component = strongly_connected(adj);
  std::set<std::vector<std::string>> cycles;
  for (const Key& k : edges) {
    if (!through(k)) continue;
    if (k.first == k.second) {
      cycles.insert({k.first});
      continue;
    }
    if (component[k.first] != component[k.second]) continue;
    std::vector<std::string> cyc = smallest_cycle_through(adj, k.first, k.second);
    if (!cyc.empty()) cycles.insert(std::move(cyc));
  }
  return cycles;
}

bool same_site(const Location& a, const Location& b) {
  if (a.line != b.line || a.line == 0) return false;
  const std::string& x = a.file.size() >= b.file.size() ? a.file : b.file;
  const std::string& y = a.file.size() >= b.file.size() ? b.file : a.file;
  if (x == y) return true;
  // Paths as the trace and as the compiler saw them may differ in their prefix only.
  return x.size() > y.size() && x.compare(x.size() - y.size(), y.size(), y) == 0 && x[x.size() - y.size() - 1] == '/';
}

}  // namespace

std::vector<Finding> static_cycles(const StaticGraph& g) {
  std::map<Key, std::vector<const StaticEdge*>> by_key;
  for (const StaticEdge& e : g.edges) by_key[{e.from, e.to}].push_back(&e);
  Adjacency<std::string> adj;
  std::set<Key> keys;
  for (const auto& [k, ev] : by_key) {
    adj[k.first].push_back(k.second);
    keys.insert(k);
  }
  std::vector<Finding> out;
  for (const std::vector<std::string>& cyc : cycles_of(adj, keys, [](const Key&) { return true; })) {
    const std::size_t n = cyc.size();
    std::vector<std::vector<const StaticEdge*>> per_edge;
    for (std::size_t i = 0; i < n; ++i) per_edge.push_back(by_key.at({cyc[i], cyc[(i + 1) % n]}));
    if (filtered(per_edge)) continue;
    Finding f;
    f.kind = std::string(kDeadlockStatic);
    f.severity = Severity::kWarning;
    f.objects = cyc;
    f.cycle = cyc;
    f.cycle.push_back(cyc[0]);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& to = cyc[(i + 1) % n];
      add_static_edge(f, *per_edge[i].front(), cyc[i], to, cyc[i] + " -> " + to, "");
    }
    if (n == 1) {
      f.message = "lock order cycle " + draw_cycle(f.cycle) + " in the source: two " + cyc[0] +
                  " locks are taken nested; two threads doing it with the objects swapped deadlock";
      f.advice = "Order the instances (e.g. by address or id) before locking, or take both with std::scoped_lock.";
    } else {
      f.message = "lock order cycle " + draw_cycle(f.cycle) + " in the source: the code takes these locks in both orders";
      f.advice = "Acquire these locks in one global order everywhere (e.g. always " + f.cycle[0] + " before " + f.cycle[1] +
                 "), or take them together with std::scoped_lock. `lockgraph hierarchy` writes the order down.";
    }
    assign_fingerprint(f);
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.cycle.size() < b.cycle.size(); });
  return out;
}

std::size_t apply_static(const StaticGraph& g, AnalysisResult& result) {
  // 1. Which source lock is each run lock? Vote by shared acquisition sites; else the same name.
  std::map<std::string, std::vector<const Location*>> dyn_sites;
  for (const LockOrderEdge& e : result.graph) {
    dyn_sites[e.from].push_back(&e.held_at);
    dyn_sites[e.to].push_back(&e.acquired_at);
  }
  std::map<std::string, std::string> to_static;  // run lock -> source lock
  for (const auto& [dyn, sites] : dyn_sites) {
    std::map<std::string, std::size_t> votes;
    for (const auto& [name, lock] : g.locks) {
      for (const Location* s : sites) {
        for (const Location& a : lock.acquired_at) votes[name] += same_site(*s, a) ? 1 : 0;
      }
    }
    std::string best;
    std::size_t best_votes = 0;
    for (const auto& [name, v] : votes) {
      if (v > best_votes) best = name, best_votes = v;
    }
    if (best.empty() && g.locks.count(dyn)) best = dyn;
    if (!best.empty()) to_static[dyn] = best;
  }
  auto node = [&](const std::string& dyn) {
    auto it = to_static.find(dyn);
    return it == to_static.end() ? "run:" + dyn : it->second;
  };
  std::map<std::string, std::set<std::string>> to_dyn;
  for (const auto& [d, s] : to_static) to_dyn[s].insert(d);
  auto shown = [&](const std::string& n) {
    if (n.rfind("run:", 0) == 0) return n.substr(4);
    auto it = to_dyn.find(n);
    return it != to_dyn.end() && it->second.size() == 1 ? *it->second.begin() : n;
  };

  // 2. Mark the run's edges, and the deadlock findings' edges.
  std::map<Key, std::vector<const StaticEdge*>> static_edges;
  for (const StaticEdge& e : g.edges) static_edges[{e.from, e.to}].push_back(&e);
  std::map<Key, const LockOrderEdge*> dyn_edges;
  std::map<Key, SourceCheck> checked;  // by run lock names
  for (LockOrderEdge& e : result.graph) {
    Key k{node(e.from), node(e.to)};
    e.source = static_edges.count(k) ? SourceCheck::kConfirmed : SourceCheck::kNotInSource;
    checked[{e.from, e.to}] = e.source;
    dyn_edges.emplace(k, &e);
  }
  for (Finding& f : result.findings) {
    if (f.kind != kDeadlockPotential && f.kind != kLockOrderInversion) continue;
    for (std::size_t i = 0; i + 1 < f.cycle.size() && 2 * i + 1 < f.locations.size(); ++i) {
      auto it = checked.find({f.cycle[i], f.cycle[i + 1]});
      if (it == checked.end()) continue;
      f.locations[2 * i + 1].role += it->second == SourceCheck::kConfirmed ? "  [confirmed by the source]" : "  [not found in the source]";
    }
  }

  // 3. Cycles that static-only edges close together with the run's edges.
  Adjacency<std::string> adj;
  std::set<Key> keys;
  for (const auto& [k, e] : dyn_edges) keys.insert(k);
  for (const auto& [k, ev] : static_edges) keys.insert(k);
  for (const Key& k : keys) adj[k.first].push_back(k.second);
  auto static_only = [&](const Key& k) { return !dyn_edges.count(k); };
  for (const std::vector<std::string>& cyc : cycles_of(adj, keys, static_only)) {
    const std::size_t n = cyc.size();
    std::size_t ran = 0;
    for (std::size_t i = 0; i < n; ++i) ran += dyn_edges.count({cyc[i], cyc[(i + 1) % n]});
    if (ran == 0 || ran == n) continue;  // source alone: `lockgraph scan`; run alone: the run's own detector
    Finding f;
    f.kind = std::string(kDeadlockStatic);
    f.severity = Severity::kError;
    std::string ran_text, source_text;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string from = shown(cyc[i]), to = shown(cyc[(i + 1) % n]);
      f.objects.push_back(from);
      f.cycle.push_back(from);
      std::string edge = from + " -> " + to;
      if (auto it = dyn_edges.find({cyc[i], cyc[(i + 1) % n]}); it != dyn_edges.end()) {
        const LockOrderEdge& e = *it->second;
        Location a = e.held_at, b = e.acquired_at;
        a.role = "holds " + from;
        b.role = "then acquires " + to + "  [ran]";
        a.thread = b.thread = edge + " (run, " + e.held_at.thread + ")";
        b.locks_held = e.gates;
        b.locks_held.push_back(from);
        f.locations.push_back(std::move(a));
        f.locations.push_back(std::move(b));
        ran_text += (ran_text.empty() ? "" : ", ") + edge;
      } else {
        add_static_edge(f, *static_edges.at({cyc[i], cyc[(i + 1) % n]}).front(), from, to, edge + " (source only)",
                        "  [never ran]");
        source_text += (source_text.empty() ? "" : ", ") + edge;
      }
    }
    f.cycle.push_back(f.cycle.front());
    f.message = "lock order cycle " + draw_cycle(f.cycle) + ": the run took " + ran_text + "; the source also takes " + source_text +
                ", on a path the tests never exercised";
    f.advice = "A test that runs the source-only path concurrently with the others would deadlock. Acquire these locks "
               "in one global order everywhere, or take them together with std::scoped_lock.";
    assign_fingerprint(f);
    result.findings.push_back(std::move(f));
  }
  return to_static.size();
}

}  // namespace lockgraph::analysis
