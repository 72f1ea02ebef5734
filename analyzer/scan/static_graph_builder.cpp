// Interprocedural lock order (see static_graph_builder.hpp).
#include "static_graph_builder.hpp"

#include <deque>
#include <set>

namespace lockgraph::scan {
namespace {

using analysis::Location;
using analysis::StaticEdge;
using analysis::StaticGraph;

struct Reached {
  std::string lock;
  Location site;                   // site.stack: the call chain below the caller, innermost first
  bool shared = false;
};

std::string frame(const std::string& function, const Location& call_site) {
  return function + " (" + call_site.file + ":" + std::to_string(call_site.line) + ")";
}

class Builder {
 public:
  Builder(const std::vector<FunctionFacts>& functions, unsigned depth) : depth_(depth) {
    for (const FunctionFacts& f : functions) by_key_[f.key].push_back(&f);
  }

  const FunctionFacts* resolve(const std::string& key, const std::string& caller_file) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return nullptr;
    for (const FunctionFacts* f : it->second) {
      if (f->file == caller_file) return f;
    }
    return it->second.front();
  }

  // Every lock `fn` acquires (blocking), itself or through calls within the depth; one site per lock.
  const std::vector<Reached>& reach(const FunctionFacts* fn) {
    auto memo = memo_.find(fn);
    if (memo != memo_.end()) return memo->second;
    std::vector<Reached>& out = memo_[fn];
    std::set<std::string> locks;
    struct Item {
      const FunctionFacts* f;
      std::vector<std::string> chain;
      unsigned depth;
    };
    std::deque<Item> queue;
    std::set<const FunctionFacts*> seen{fn};
    queue.push_back({fn, {}, 1});
    while (!queue.empty()) {
      Item item = std::move(queue.front());
      queue.pop_front();
      for (const Acquisition& a : item.f->acquisitions) {
        if (a.is_try || !locks.insert(a.lock).second) continue;
        Reached r{a.lock, a.site, a.shared};
        r.site.stack = item.chain;
        out.push_back(std::move(r));
      }
      if (item.depth >= depth_) continue;
      for (const Call& c : item.f->calls) {
        const FunctionFacts* callee = resolve(c.callee, item.f->file);
        if (callee == nullptr || !seen.insert(callee).second) continue;
        std::vector<std::string> chain{frame(item.f->name, c.site)};
        chain.insert(chain.end(), item.chain.begin(), item.chain.end());
        queue.push_back({callee, std::move(chain), item.depth + 1});
      }
    }
    return out;
  }

 private:
  unsigned depth_;
  std::map<std::string, std::vector<const FunctionFacts*>> by_key_;
  std::map<const FunctionFacts*, std::vector<Reached>> memo_;
};

std::vector<std::string> gates_of(const std::vector<HeldLock>& held, const std::string& from, const std::string& to) {
  std::set<std::string> g;
  for (const HeldLock& h : held) {
    if (h.lock != from && h.lock != to) g.insert(h.lock);
  }
  return {g.begin(), g.end()};
}

void add_site(StaticGraph& g, const std::string& lock, const Location& site) {
  auto& sites = g.locks[lock].acquired_at;
  if (sites.size() >= StaticGraph::kMaxSites) return;
  for (const Location& s : sites) {
    if (s.file == site.file && s.line == site.line) return;
  }
  Location l = site;
  l.role = "acquires " + lock;
  l.stack.clear();
  sites.push_back(std::move(l));
}

}  // namespace

StaticGraph build_static_graph(const std::vector<FunctionFacts>& functions,
                               const std::map<std::string, LockDeclaration>& locks, unsigned call_depth) {
  StaticGraph g;
  g.call_depth = call_depth;
  g.functions = functions.size();
  for (const auto& [name, d] : locks) {
    analysis::StaticLock& l = g.locks[name];
    l.type = d.type;
    l.declared_at = d.declared_at;
    l.recursive = d.recursive;
  }
  Builder builder(functions, call_depth);
  for (const FunctionFacts& f : functions) {
    for (const Acquisition& a : f.acquisitions) {
      add_site(g, a.lock, a.site);
      if (a.is_try) continue;  // a try never blocks: nothing waits on this edge
      for (const HeldLock& h : a.held) {
        // The same expression again is re-entry (recursive) or self-deadlock, not an order;
        // the same lock through another object (`from.m`, `to.m`) is an order within the class.
        if (h.lock == a.lock && (h.object == a.object || g.locks[a.lock].recursive)) continue;
        StaticEdge e;
        e.from = h.lock;
        e.to = a.lock;
        e.held_at = h.site;
        e.acquired_at = a.site;
        e.gates = gates_of(a.held, h.lock, a.lock);
        e.held_shared = h.shared;
        e.acquired_shared = a.shared;
        g.add_edge(std::move(e));
      }
    }
    for (const Call& c : f.calls) {
      if (c.held.empty() || call_depth == 0) continue;
      const FunctionFacts* callee = builder.resolve(c.callee, f.file);
      if (callee == nullptr) continue;
      for (const Reached& r : builder.reach(callee)) {
        for (const HeldLock& h : c.held) {
          if (h.lock == r.lock) continue;  // across calls the objects cannot be told apart
          StaticEdge e;
          e.from = h.lock;
          e.to = r.lock;
          e.held_at = h.site;
          e.acquired_at = r.site;
          e.acquired_at.stack.push_back(frame(f.name, c.site));
          e.gates = gates_of(c.held, h.lock, r.lock);
          e.held_shared = h.shared;
          e.acquired_shared = r.shared;
          g.add_edge(std::move(e));
        }
      }
    }
  }
  return g;
}

}  // namespace lockgraph::scan
