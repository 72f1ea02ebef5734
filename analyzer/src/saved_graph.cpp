// SavedGraph: JSON form, merge and the cross-run cycle search (see saved_graph.hpp).
#include "lockgraph/analyzer/saved_graph.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "fnv1a.hpp"
#include "graph_search.hpp"
#include "json_io.hpp"

namespace lockgraph::analysis {

using nlohmann::json;

SavedGraph SavedGraph::from_analysis(const AnalysisResult& result, const TraceSet& set) {
  // FNV-1a over what makes a run unique: its processes' pids, start times and programs.
  Fnv1a h;
  std::string description;
  for (const ProcessInfo& p : set.processes()) {
    h.bytes(std::to_string(p.pid) + "/" + std::to_string(p.start_ns) + "/" + p.program + ";");
    if (description.empty()) description = (p.program.empty() ? p.path : p.program) + " (pid " + std::to_string(p.pid) + ")";
  }
  SavedGraph g;
  std::string run = h.hex();
  g.runs[run] = description;
  for (const LockOrderEdge& e : result.graph) {
    SavedObservation o{e.count, e.gates, e.held_shared, e.acquired_shared, e.held_at, e.acquired_at};
    g.edges[{e.from, e.to}][run] = std::move(o);
  }
  return g;
}

bool SavedGraph::save(const std::string& path, std::string* error) const {
  json edges = json::array();
  for (const auto& [key, seen] : this->edges) {
    json obs = json::array();
    for (const auto& [run, o] : seen) {
      obs.push_back(json{{"run", run},
                         {"count", o.count},
                         {"gates", o.gates},
                         {"held_shared", o.held_shared},
                         {"acquired_shared", o.acquired_shared},
                         {"held_at", location_json(o.held_at)},
                         {"acquired_at", location_json(o.acquired_at)}});
    }
    edges.push_back(json{{"from", key.first}, {"to", key.second}, {"seen", std::move(obs)}});
  }
  json doc{{"lockgraph_graph", kVersion}, {"runs", runs}, {"edges", std::move(edges)}};
  return save_json(path, doc, error);
}

bool SavedGraph::load(const std::string& path, SavedGraph* out, std::string* error) {
  json doc;
  if (!load_versioned_json(path, "lockgraph_graph", kVersion, "saved lock-order graph", "analyze --save-graph", &doc, error)) return false;
  try {
    SavedGraph g;
    g.runs = doc.at("runs").get<std::map<std::string, std::string>>();
    for (const json& e : doc.at("edges")) {
      auto key = std::make_pair(e.at("from").get<std::string>(), e.at("to").get<std::string>());
      for (const json& s : e.at("seen")) {
        std::string run = s.at("run").get<std::string>();
        if (!g.runs.count(run)) {
          *error = path + ": edge " + key.first + " -> " + key.second + " names run " + run + ", which the file does not list";
          return false;
        }
        SavedObservation o;
        o.count = s.at("count").get<std::uint64_t>();
        o.gates = s.at("gates").get<std::vector<std::string>>();
        std::sort(o.gates.begin(), o.gates.end());
        o.held_shared = s.at("held_shared").get<bool>();
        o.acquired_shared = s.at("acquired_shared").get<bool>();
        o.held_at = location_from_json(s.at("held_at"), "holds " + key.first);
        o.acquired_at = location_from_json(s.at("acquired_at"), "then acquires " + key.second);
        g.edges[key][run] = std::move(o);
      }
    }
    *out = std::move(g);
    return true;
  } catch (const json::exception& ex) {
    *error = path + ": malformed saved lock-order graph: " + ex.what();
    return false;
  }
}

void SavedGraph::merge(const SavedGraph& other) {
  // One run's facts are the same wherever they come from: inserting what is missing is a union.
  for (const auto& [id, text] : other.runs) runs.emplace(id, text);
  for (const auto& [key, seen] : other.edges) {
    auto& mine = edges[key];
    for (const auto& [run, o] : seen) mine.emplace(run, o);
  }
}

std::vector<Finding> SavedGraph::cross_run_cycles() const {
  using Key = std::pair<std::string, std::string>;
  Adjacency<std::string> adj;
  for (const auto& [key, seen] : edges) adj[key.first].push_back(key.second);
  std::map<std::string, std::uint32_t> component = strongly_connected(adj);
  std::set<std::vector<std::string>> cycles;
  for (const auto& [key, seen] : edges) {
    if (key.first == key.second || component[key.first] != component[key.second]) continue;
    std::vector<std::string> cyc = smallest_cycle_through(adj, key.first, key.second);
    if (!cyc.empty()) cycles.insert(std::move(cyc));
  }
  std::vector<Finding> out;
  for (const std::vector<std::string>& cyc : cycles) {
    const std::size_t n = cyc.size();
    std::vector<const std::map<std::string, SavedObservation>*> seen;
    for (std::size_t i = 0; i < n; ++i) seen.push_back(&edges.at(Key{cyc[i], cyc[(i + 1) % n]}));
    // A run that saw every edge was judged by its own analysis.
    bool one_run = false;
    for (const auto& [run, o] : *seen[0]) {
      bool all = true;
      for (std::size_t i = 1; i < n && all; ++i) all = seen[i]->count(run) != 0;
      one_run = one_run || all;
    }
    if (one_run) continue;
    // Per edge, what held on every observation in every run: gate locks and shared modes.
    std::vector<std::string> common_gates;
    std::vector<bool> held_shared(n), acq_shared(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<std::string> edge_gates = seen[i]->begin()->second.gates;
      bool hs = true, as = true;
      for (const auto& [run, o] : *seen[i]) {
        std::vector<std::string> both;
        std::set_intersection(edge_gates.begin(), edge_gates.end(), o.gates.begin(), o.gates.end(), std::back_inserter(both));
        edge_gates.swap(both);
        hs = hs && o.held_shared;
        as = as && o.acquired_shared;
      }
      held_shared[i] = hs;
      acq_shared[i] = as;
      if (i == 0) {
        common_gates = edge_gates;
      } else {
        std::vector<std::string> both;
        std::set_intersection(common_gates.begin(), common_gates.end(), edge_gates.begin(), edge_gates.end(),
                              std::back_inserter(both));
        common_gates.swap(both);
      }
    }
    if (!common_gates.empty()) continue;  // one gate lock serializes every edge
    bool reader_reader = false;
    for (std::size_t i = 0; i < n; ++i) reader_reader = reader_reader || (acq_shared[i] && held_shared[(i + 1) % n]);
    if (reader_reader) continue;

    Finding f;
    f.kind = std::string(kDeadlockPotential);
    f.severity = Severity::kError;
    f.cycle = cyc;
    f.cycle.push_back(cyc[0]);
    f.objects = cyc;
    const std::string drawn = draw_cycle(f.cycle);
    std::string evidence;
    std::set<std::string> run_set;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& [run, o] = *seen[i]->begin();  // the smallest run id: the same answer in any merge order
      run_set.insert(run);
      std::string where = runs.count(run) ? runs.at(run) : run;
      Location a = o.held_at, b = o.acquired_at;
      a.thread = b.thread = o.held_at.thread + " in " + where;
      a.role = "holds " + cyc[i];
      b.role = "then acquires " + cyc[(i + 1) % n];
      b.locks_held = o.gates;
      b.locks_held.push_back(cyc[i]);
      f.locations.push_back(std::move(a));
      f.locations.push_back(std::move(b));
      if (!evidence.empty()) evidence += "; ";
      evidence += cyc[i] + " -> " + cyc[(i + 1) % n] + " in " + where;
      if (f.threads.empty() || f.threads.back() != f.locations.back().thread) f.threads.push_back(f.locations.back().thread);
    }
    f.message = "potential deadlock across runs: lock order cycle " + drawn + " that no single run took whole (" +
                evidence + ")";
    f.advice = "The program takes these locks in both orders, on paths different tests exercise. Acquire them in one "
               "global order everywhere (e.g. always " + f.cycle[0] + " before " + f.cycle[1] +
               "), or take them together with std::scoped_lock.";
    assign_fingerprint(f);
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.cycle.size() < b.cycle.size(); });
  return out;
}

std::vector<LockOrderEdge> SavedGraph::lock_order_edges(const std::vector<Finding>& cycles) const {
  const std::set<std::pair<std::string, std::string>> hot = cycle_edges(cycles);
  std::vector<LockOrderEdge> out;
  for (const auto& [key, seen] : edges) {
    LockOrderEdge e;
    e.from = key.first;
    e.to = key.second;
    e.in_cycle = hot.count(key) != 0;
    for (const auto& [run, o] : seen) {
      e.count += o.count;
      std::string where = runs.count(run) ? runs.at(run) : run;
      e.labels.push_back(where + ": " + o.held_at.file + ":" + std::to_string(o.held_at.line) + " -> " +
                         o.acquired_at.file + ":" + std::to_string(o.acquired_at.line));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lockgraph::analysis
