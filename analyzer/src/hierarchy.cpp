// LockHierarchy: deriving a declared order from observed edges, and its two written forms
// (see hierarchy.hpp). Checking a run against it is a detector: detectors/hierarchy.cpp.
#include "lockgraph/analyzer/hierarchy.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "graph_search.hpp"

namespace lockgraph::analysis {
namespace {

using Edge = std::pair<std::string, std::string>;

// True when `to` is reachable from `from` without using the direct edge from -> to.
bool reachable_otherwise(const Adjacency<std::string>& adj, const std::string& from, const std::string& to) {
  std::set<std::string> seen;
  std::vector<std::string> stack;
  for (const std::string& v : adj.at(from)) {
    if (v != to && seen.insert(v).second) stack.push_back(v);
  }
  while (!stack.empty()) {
    std::string u = stack.back();
    stack.pop_back();
    if (u == to) return true;
    auto it = adj.find(u);
    if (it == adj.end()) continue;
    for (const std::string& v : it->second) {
      if (seen.insert(v).second) stack.push_back(v);
    }
  }
  return false;
}

// The TSA argument naming `other` from the declaration of `lock`: a sibling member by its own
// name, anything else by its qualified name.
std::string tsa_argument(const std::string& lock, const std::string& other) {
  auto scope = [](const std::string& n) {
    auto p = n.rfind("::");
    return p == std::string::npos ? std::string() : n.substr(0, p);
  };
  if (!scope(lock).empty() && scope(lock) == scope(other)) return other.substr(scope(other).size() + 2);
  return other;
}

bool annotatable(const std::string& name) {
  // Parameters and locals (`function:name`), array elements and unnamed locks have no declaration
  // an attribute could go on that names the other lock.
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == ':' && (i + 1 >= name.size() || name[i + 1] != ':') && (i == 0 || name[i - 1] != ':')) return false;
  }
  return name.find_first_of("[]() <>") == std::string::npos;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

LockHierarchy LockHierarchy::derive(const std::vector<Edge>& edges, std::map<std::string, Location> declared_at,
                                    std::string source) {
  std::set<Edge> unique;
  for (const Edge& e : edges) {
    if (e.first != e.second) unique.insert(e);
  }
  Adjacency<std::string> adj;
  for (const Edge& e : unique) {
    adj[e.first].push_back(e.second);
    adj[e.second];
  }
  std::map<std::string, std::uint32_t> component = strongly_connected(adj);
  std::map<std::uint32_t, std::vector<std::string>> members;
  for (const auto& [lock, c] : component) members[c].push_back(lock);
  LockHierarchy h;
  for (auto& [c, locks] : members) {
    if (locks.size() > 1) h.cycles.push_back(locks);
  }
  Adjacency<std::string> dag;
  for (const Edge& e : unique) {
    if (component[e.first] != component[e.second]) dag[e.first].push_back(e.second);
  }
  for (const auto& [from, tos] : dag) {
    for (const std::string& to : tos) {
      if (!reachable_otherwise(dag, from, to)) h.order.emplace_back(from, to);
    }
  }
  h.order_lines.assign(h.order.size(), 0);
  h.declared_at = std::move(declared_at);
  h.source = std::move(source);
  return h;
}

std::string LockHierarchy::render() const {
  std::ostringstream o;
  o << "# lockgraph lock hierarchy v1" << (source.empty() ? "" : ", derived from " + source) << "\n"
    << "# BEFORE -> AFTER: AFTER may be acquired while BEFORE is held, never the reverse. The order is\n"
    << "# transitive. Enforce it with: lockgraph analyze --hierarchy THIS_FILE TRACE\n";
  for (const Edge& e : order) o << e.first << " -> " << e.second << "\n";
  for (const auto& c : cycles) {
    o << "# not ordered, taken in both orders (fix the cycle first):";
    for (const std::string& l : c) o << " " << l;
    o << "\n";
  }
  return o.str();
}

std::string LockHierarchy::render_tsa() const {
  std::map<std::string, std::vector<std::string>> before, after;
  for (const Edge& e : order) {
    before[e.first].push_back(e.second);
    after[e.second].push_back(e.first);
  }
  std::set<std::string> locks;
  for (const Edge& e : order) {
    locks.insert(e.first);
    locks.insert(e.second);
  }
  std::ostringstream o;
  o << "// Clang Thread Safety Analysis: the observed lock order as attributes on each declaration\n"
    << "// (macros as in clang's ThreadSafetyAnalysis documentation; checked with -Wthread-safety-beta).\n";
  for (const std::string& l : locks) {
    auto it = declared_at.find(l);
    std::string where = it != declared_at.end() && !it->second.file.empty() && it->second.file != "?"
                            ? it->second.file + ":" + std::to_string(it->second.line)
                            : "(declaration unknown)";
    if (!annotatable(l)) {
      o << where << ": " << l << ": not annotatable (a parameter, local or array element); order it by hand\n";
      continue;
    }
    auto list = [&](const std::vector<std::string>& others) {
      std::string s;
      for (const std::string& x : others) s += (s.empty() ? "" : ", ") + tsa_argument(l, x);
      return s;
    };
    o << where << ": " << l << ": add";
    if (before.count(l)) o << " ACQUIRED_BEFORE(" << list(before[l]) << ")";
    if (after.count(l)) o << " ACQUIRED_AFTER(" << list(after[l]) << ")";
    o << "\n";
  }
  for (const auto& c : cycles) {
    o << "// not ordered, taken in both orders:";
    for (const std::string& l : c) o << " " << l;
    o << "\n";
  }
  return o.str();
}

bool LockHierarchy::load(const std::string& path, LockHierarchy* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  LockHierarchy h;
  h.source = path;
  std::string raw;
  unsigned n = 0;
  while (std::getline(in, raw)) {
    ++n;
    std::string line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    auto arrow = line.find("->");
    std::string a = arrow == std::string::npos ? "" : trim(line.substr(0, arrow));
    std::string b = arrow == std::string::npos ? "" : trim(line.substr(arrow + 2));
    if (a.empty() || b.empty() || b.find("->") != std::string::npos) {
      *error = path + ":" + std::to_string(n) + ": expected \"BEFORE -> AFTER\", got \"" + line + "\"";
      return false;
    }
    if (a == b) {
      *error = path + ":" + std::to_string(n) + ": " + a + " cannot be ordered before itself";
      return false;
    }
    h.order.emplace_back(a, b);
    h.order_lines.push_back(n);
  }
  Adjacency<std::string> adj;
  for (const Edge& e : h.order) adj[e.first].push_back(e.second);
  for (const Edge& e : h.order) {
    std::vector<std::string> cyc = smallest_cycle_through(adj, e.first, e.second);
    if (cyc.empty()) continue;
    std::string drawn;
    for (const std::string& l : cyc) drawn += l + " -> ";
    *error = path + ": the declared order has a cycle: " + drawn + cyc.front();
    return false;
  }
  *out = std::move(h);
  return true;
}

}  // namespace lockgraph::analysis
