// StaticGraph: evidence capping and the JSON form of a saved scan (see static_graph.hpp).
#include "lockgraph/analyzer/static_graph.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "graph_search.hpp"
#include "json_io.hpp"

namespace lockgraph::analysis {

using nlohmann::json;

void StaticGraph::add_edge(StaticEdge e) {
  std::size_t same = 0;
  for (const StaticEdge& o : edges) {
    if (o.from != e.from || o.to != e.to) continue;
    if (++same >= kEvidencePerEdge) return;
    if (o.held_at.file == e.held_at.file && o.held_at.line == e.held_at.line && o.acquired_at.file == e.acquired_at.file &&
        o.acquired_at.line == e.acquired_at.line) {
      return;
    }
  }
  edges.push_back(std::move(e));
}

std::vector<LockOrderEdge> StaticGraph::lock_order_edges(const std::vector<Finding>& cycles) const {
  const std::set<std::pair<std::string, std::string>> hot = cycle_edges(cycles);
  std::vector<LockOrderEdge> out;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const StaticEdge& e : edges) {
    auto [it, fresh] = index.emplace(std::make_pair(e.from, e.to), out.size());
    if (fresh) {
      LockOrderEdge le;
      le.from = e.from;
      le.to = e.to;
      le.in_cycle = hot.count(it->first) != 0;
      le.held_at = e.held_at;
      le.acquired_at = e.acquired_at;
      le.gates = e.gates;
      out.push_back(std::move(le));
    }
    LockOrderEdge& le = out[it->second];
    ++le.count;
    le.labels.push_back(e.acquired_at.function + ": " + e.held_at.file + ":" + std::to_string(e.held_at.line) + " -> " +
                        e.acquired_at.file + ":" + std::to_string(e.acquired_at.line));
  }
  return out;
}

bool StaticGraph::save(const std::string& path, std::string* error) const {
  json jlocks = json::object();
  for (const auto& [name, l] : locks) {
    json sites = json::array();
    for (const Location& s : l.acquired_at) sites.push_back(location_json(s));
    jlocks[name] = json{{"type", l.type},
                        {"recursive", l.recursive},
                        {"declared_at", location_json(l.declared_at)},
                        {"acquired_at", std::move(sites)}};
  }
  json jedges = json::array();
  for (const StaticEdge& e : edges) {
    jedges.push_back(json{{"from", e.from},
                          {"to", e.to},
                          {"held_at", location_json(e.held_at)},
                          {"acquired_at", location_json(e.acquired_at)},
                          {"gates", e.gates},
                          {"held_shared", e.held_shared},
                          {"acquired_shared", e.acquired_shared}});
  }
  json doc{{"lockgraph_scan", kVersion}, {"build_dir", build_dir}, {"files", files},   {"functions", functions},
           {"call_depth", call_depth},   {"problems", problems},   {"locks", jlocks}, {"edges", jedges}};
  return save_json(path, doc, error);
}

bool StaticGraph::looks_like(const std::string& path) {
  // Binary traces start with their magic, text-form traces with a thread; JSON with '{'.
  std::ifstream in(path);
  char c = 0;
  while (in.get(c) && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
  }
  return in && c == '{';
}

bool StaticGraph::load(const std::string& path, StaticGraph* out, std::string* error) {
  json doc;
  if (!load_versioned_json(path, "lockgraph_scan", kVersion, "saved scan", "`lockgraph scan --save`", &doc, error)) return false;
  try {
    StaticGraph g;
    g.build_dir = doc.at("build_dir").get<std::string>();
    g.files = doc.at("files").get<std::size_t>();
    g.functions = doc.at("functions").get<std::size_t>();
    g.call_depth = doc.at("call_depth").get<unsigned>();
    g.problems = doc.at("problems").get<std::vector<std::string>>();
    for (const auto& [name, l] : doc.at("locks").items()) {
      StaticLock lock;
      lock.type = l.at("type").get<std::string>();
      lock.recursive = l.at("recursive").get<bool>();
      lock.declared_at = location_from_json(l.at("declared_at"), "declared");
      for (const json& s : l.at("acquired_at")) lock.acquired_at.push_back(location_from_json(s, "acquires " + name));
      g.locks[name] = std::move(lock);
    }
    for (const json& j : doc.at("edges")) {
      StaticEdge e;
      e.from = j.at("from").get<std::string>();
      e.to = j.at("to").get<std::string>();
      e.held_at = location_from_json(j.at("held_at"), "holds " + e.from);
      e.acquired_at = location_from_json(j.at("acquired_at"), "then acquires " + e.to);
      e.gates = j.at("gates").get<std::vector<std::string>>();
      e.held_shared = j.at("held_shared").get<bool>();
      e.acquired_shared = j.at("acquired_shared").get<bool>();
      g.edges.push_back(std::move(e));
    }
    *out = std::move(g);
    return true;
  } catch (const json::exception& ex) {
    *error = path + ": malformed saved scan: " + ex.what();
    return false;
  }
}

}  // namespace lockgraph::analysis
