// Internal: the graph searches the lock-order analyses share — the per-run detector
// (detectors/lock_order.cpp), the merge of saved graphs (saved_graph.cpp), the source's order
// (detectors/static_lock_order.cpp) and lock hierarchies (hierarchy.cpp).
//   smallest_cycle_through(adj, a, b)  the shortest cycle using edge a->b (BFS from b back to a),
//                                      rotated so its smallest node comes first; empty if none
//   strongly_connected(adj)            Tarjan's SCC (R. Tarjan, SIAM J. Computing 1972),
//                                      iterative: lock graphs can be deep
//   cycle_edges(findings)              the (from, to) pairs of the findings' cycles, for drawing
// Cost: BFS O(V + E) per cycle query; SCC O(V + E) with map lookups.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lockgraph/analyzer/finding.hpp"

namespace lockgraph::analysis {

template <class Node>
using Adjacency = std::map<Node, std::vector<Node>>;

template <class Node>
std::vector<Node> smallest_cycle_through(const Adjacency<Node>& adj, const Node& a, const Node& b) {
  std::map<Node, Node> parent{{b, b}};
  std::deque<Node> queue{b};
  while (!queue.empty()) {
    Node u = queue.front();
    queue.pop_front();
    if (u == a) {
      std::vector<Node> path{a};  // a <- ... <- b, reversed below into b ... a
      while (!(path.back() == b)) path.push_back(parent.at(path.back()));
      std::reverse(path.begin(), path.end());
      std::vector<Node> cycle{a};  // a -> b -> ... (the path without its final a)
      cycle.insert(cycle.end(), path.begin(), path.end() - 1);
      std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
      return cycle;
    }
    auto it = adj.find(u);
    if (it == adj.end()) continue;
    for (const Node& v : it->second) {
      if (parent.emplace(v, u).second) queue.push_back(v);
    }
  }
  return {};
}

template <class Node>
std::map<Node, std::uint32_t> strongly_connected(const Adjacency<Node>& adj) {
  std::map<Node, std::uint32_t> index, low, component;
  std::vector<Node> stack;
  std::set<Node> on_stack;
  std::uint32_t next = 0, components = 0;
  const std::vector<Node> none;
  for (const auto& [root, unused] : adj) {
    if (index.count(root)) continue;
    std::vector<std::pair<Node, std::size_t>> work{{root, 0}};  // node, next child to visit
    index[root] = low[root] = next++;
    stack.push_back(root);
    on_stack.insert(root);
    while (!work.empty()) {
      Node v = work.back().first;
      std::size_t& child = work.back().second;
      auto it = adj.find(v);
      const std::vector<Node>& out = it == adj.end() ? none : it->second;
      if (child < out.size()) {
        const Node& w = out[child++];
        if (!index.count(w)) {
          index[w] = low[w] = next++;
          stack.push_back(w);
          on_stack.insert(w);
          work.emplace_back(w, 0);
        } else if (on_stack.count(w)) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        Node w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack.erase(w);
          component[w] = components;
        } while (!(w == v));
        ++components;
      }
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[v]);
    }
  }
  return component;
}

inline std::set<std::pair<std::string, std::string>> cycle_edges(const std::vector<Finding>& findings) {
  std::set<std::pair<std::string, std::string>> out;
  for (const Finding& f : findings) {
    for (std::size_t i = 0; i + 1 < f.cycle.size(); ++i) out.emplace(f.cycle[i], f.cycle[i + 1]);
  }
  return out;
}

}  // namespace lockgraph::analysis
