// deadlock_potential and lock_order_inversion: the lock-order graph with the filters of DESIGN.md.
//
// An edge A->B is recorded when a thread makes (or blocks in) an acquisition of B while holding A
// (try and timed acquisitions never block forever: no edge; re-entering a recursive mutex: no
// edge). Each edge keeps its distinct evidence: thread, both sites, both modes, the other locks
// held (gate candidates) and the thread's "hard" happens-before clock (no lock edges).
// A cycle is a potential deadlock when one piece of evidence per edge can be chosen such that the
// threads are distinct, every hand-over conflicts (not reader-reader), no single gate lock is held
// on all edges, and no two edges are ordered by happens-before — the classic Goodlock idea
// (Havelund, 2000; Bensalem & Havelund, 2005) with the happens-before refinement of Agarwal et al.
// Cycles that fail only the happens-before test are lock_order_inversion. The smallest cycle
// through each edge is found by BFS, so each reported cycle is minimal for its locks.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "detector.hpp"
#include "lockgraph/analyzer/flat_map.hpp"
#include "fnv1a.hpp"
#include "graph_search.hpp"

namespace lockgraph::analysis {
namespace {

struct Evidence {
  std::uint32_t thread = 0;     // Model thread index
  std::uint32_t held_site = 0;
  std::uint32_t acq_site = 0;
  bool held_shared = false;
  bool acq_shared = false;
  std::uint32_t held_set = 0;   // interned set of every lock held (gates: it minus the edge's two locks)
  VectorClock hard;
  std::uint64_t count = 0;
};

struct EdgeKey {
  std::uint32_t from;
  std::uint32_t to;
  bool operator<(const EdgeKey& o) const { return from != o.from ? from < o.from : to < o.to; }
  bool operator==(const EdgeKey&) const = default;
};
struct EdgeKeyHash {
  std::size_t operator()(const EdgeKey& k) const noexcept {
    std::uint64_t h = ((std::uint64_t(k.from) << 32) | k.to) * 0x9E3779B97F4A7C15ull;
    return std::size_t(h ^ (h >> 29));
  }
};

constexpr std::size_t kMaxEvidencePerEdge = 16;
constexpr std::size_t kLabelsPerEdge = 4;  // DOT/HTML draw at most four per edge
// Gate locks kept per edge of result.graph (saved graphs, `merge`): the first ones by creation.
// Fewer gates can only make merge report more, never miss a cycle.
constexpr std::size_t kGatesPerSavedEdge = 8;
constexpr std::uint64_t kSearchBudget = 200000;

bool concurrent(const Evidence& a, const Evidence& b) {
  Epoch ea = a.hard.epoch(a.thread);
  Epoch eb = b.hard.epoch(b.thread);
  return !b.hard.covers(ea) && !a.hard.covers(eb);
}

enum class Verdict { kNone, kInversion, kSingleThread, kDeadlock };

class LockOrderDetector : public Detector {
 public:
  Hook hook() const override { return Hook::kBefore; }
  bool wants(Kind k) const override { return k == Kind::kLockAcquired || k == Kind::kLockRequest; }

  void before(const Event& e, Model& m) override {
    // A blocking request counts even if it is never granted: that is how a real deadlock looks.
    if (e.kind != Kind::kLockAcquired && e.kind != Kind::kLockRequest) return;
    if (e.flags & (format::kAcqTry | format::kAcqTimed | format::kAcqRecursive)) return;
    std::uint32_t ti = m.current_thread();
    const ThreadState& t = m.thread(ti);
    if (t.held.empty()) return;
    const std::uint32_t to = m.current_lock();
    // One interned held set per acquisition, shared by all its edges: a thread holding 1,000
    // locks makes 1,000 edges per acquisition, not 1,000 copies of a 1,000-lock gate list.
    std::uint32_t held_set = m.held_set_id(ti);
    for (const HeldLock& h : t.held) {
      if (h.lock == to) continue;  // re-lock of a held lock: misuse / self-deadlock, not an order
      // The evidence lives in the hash slot (no node to chase); finish() sorts the edges.
      auto& list = edges_.find_or_insert(EdgeKey{h.lock, to});
      bool merged = false;
      for (Evidence& ev : list) {
        if (ev.thread == ti && ev.held_site == h.site && ev.acq_site == e.site && ev.held_set == held_set &&
            ev.held_shared == h.shared && ev.acq_shared == bool(e.flags & format::kAcqShared)) {
          ++ev.count;
          merged = true;
          break;
        }
      }
      if (merged || list.size() >= kMaxEvidencePerEdge) continue;
      Evidence ev;
      ev.thread = ti;
      ev.held_site = h.site;
      ev.acq_site = e.site;
      ev.held_shared = h.shared;
      ev.acq_shared = e.flags & format::kAcqShared;
      ev.held_set = held_set;
      ev.hard = t.hard;
      ev.count = 1;
      list.push_back(std::move(ev));
    }
  }

  void finish(Model& m, AnalysisResult& result) override {
    model_ = &m;  // for gates_of(): the held sets live in the model
    // In key order: what follows (cycles, the saved graph) must not depend on hashing.
    std::vector<std::pair<EdgeKey, const std::vector<Evidence>*>> ordered_edges;
    ordered_edges.reserve(edges_.size());
    edges_.for_each([&](const EdgeKey& k, const std::vector<Evidence>& list) { ordered_edges.emplace_back(k, &list); });
    std::sort(ordered_edges.begin(), ordered_edges.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    Adjacency<std::uint32_t> adj;
    for (const auto& [k, list] : ordered_edges) adj[k.from].push_back(k.to);
    // Only an edge inside a strongly connected component can be on a cycle: the search below
    // runs for those alone (a 1,000-lock nesting order is 500,000 edges and no cycle).
    std::map<std::uint32_t, std::uint32_t> component = strongly_connected(adj);
    std::set<std::vector<std::uint32_t>> cycles;
    for (const auto& [k, list] : ordered_edges) {
      if (component[k.from] != component[k.to]) continue;
      std::vector<std::uint32_t> cyc = smallest_cycle_through(adj, k.from, k.to);
      if (!cyc.empty()) cycles.insert(std::move(cyc));
    }
    std::vector<std::vector<std::uint32_t>> ordered(cycles.begin(), cycles.end());
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
    std::set<EdgeKey> cycle_edges;
    for (const auto& cyc : ordered) {
      std::vector<const Evidence*> chosen;
      Verdict v = classify(cyc, &chosen);
      if (v == Verdict::kNone) continue;
      for (std::size_t i = 0; i < cyc.size(); ++i) cycle_edges.insert(EdgeKey{cyc[i], cyc[(i + 1) % cyc.size()]});
      result.findings.push_back(make_finding(m, cyc, chosen, v));
    }
    // Many edges share their sites (a loop taking 1,000 locks is 500,000 edges from two lines):
    // each site's text and Location is built once.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> site_text;
    std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, Location> site_location;
    auto text_of = [&](std::uint32_t process, std::uint32_t site) -> const std::string& {
      auto [it, fresh] = site_text.try_emplace({process, site});
      if (fresh) it->second = m.set().location(process, site);
      return it->second;
    };
    auto location_of = [&](std::uint32_t process, std::uint32_t site, std::uint32_t thread) -> const Location& {
      auto [it, fresh] = site_location.try_emplace({process, site, thread});
      if (fresh) {
        it->second = m.location(process, site, "", thread);
        it->second.locks_held.clear();
      }
      return it->second;
    };
    result.graph.reserve(ordered_edges.size());
    for (const auto& [k, evidence] : ordered_edges) {
      const std::vector<Evidence>& list = *evidence;
      LockOrderEdge e;
      e.from = m.lock(k.from).name;
      e.to = m.lock(k.to).name;
      e.in_cycle = cycle_edges.count(k) != 0;
      std::vector<std::uint32_t> gates = gates_of(list.front(), k, kGatesPerSavedEdge);
      e.held_shared = e.acquired_shared = true;
      for (const Evidence& ev : list) {
        const ThreadState& t = m.thread(ev.thread);
        if (e.labels.size() < kLabelsPerEdge) {
          e.labels.push_back(t.label + ": " + text_of(t.process, ev.held_site) + " -> " + text_of(t.process, ev.acq_site));
        }
        e.count += ev.count;
        e.held_shared = e.held_shared && ev.held_shared;
        e.acquired_shared = e.acquired_shared && ev.acq_shared;
        if (gates.empty()) continue;
        std::vector<std::uint32_t> mine = gates_of(ev, k, kGatesPerSavedEdge), common;
        std::set_intersection(gates.begin(), gates.end(), mine.begin(), mine.end(), std::back_inserter(common));
        gates.swap(common);
      }
      for (std::uint32_t g : gates) e.gates.push_back(m.lock(g).name);
      const Evidence& first = list.front();
      const ThreadState& t = m.thread(first.thread);
      e.held_at = location_of(t.process, first.held_site, first.thread);
      e.held_at.role = "holds " + e.from;
      e.acquired_at = location_of(t.process, first.acq_site, first.thread);
      e.acquired_at.role = "then acquires " + e.to;
      result.graph.push_back(std::move(e));
    }
  }

 private:
  // Picks evidence per edge; returns the strongest verdict found and its evidence.
  Verdict classify(const std::vector<std::uint32_t>& cyc, std::vector<const Evidence*>* best) {
    const std::size_t n = cyc.size();
    std::vector<const std::vector<Evidence>*> lists;
    for (std::size_t i = 0; i < n; ++i) lists.push_back(edges_.find(EdgeKey{cyc[i], cyc[(i + 1) % n]}));
    Verdict verdict = Verdict::kNone;
    std::vector<const Evidence*> pick(n, nullptr);
    std::uint64_t budget = kSearchBudget;
    // Depth-first over evidence choices with distinct threads; stops at the first deadlock.
    auto rec = [&](auto&& self, std::size_t i) -> bool {
      if (budget == 0) return true;
      --budget;
      if (i == n) {
        Verdict v = judge(pick, cyc);
        if (v > verdict) {
          verdict = v;
          *best = pick;
        }
        return verdict == Verdict::kDeadlock;
      }
      for (const Evidence& ev : *lists[i]) {
        bool distinct = true;
        for (std::size_t j = 0; j < i && distinct; ++j) distinct = pick[j]->thread != ev.thread;
        if (!distinct) continue;
        pick[i] = &ev;
        if (self(self, i + 1)) return true;
      }
      return false;
    };
    rec(rec, 0);
    if (verdict != Verdict::kNone) return verdict;
    // One thread took every edge of the cycle itself: not a deadlock, but worth a warning.
    for (const Evidence& first : *lists[0]) {
      pick[0] = &first;
      bool complete = true;
      for (std::size_t i = 1; i < n && complete; ++i) {
        complete = false;
        for (const Evidence& ev : *lists[i]) {
          if (ev.thread == first.thread) {
            pick[i] = &ev;
            complete = true;
            break;
          }
        }
      }
      if (complete && !gated(pick, cyc)) {
        *best = pick;
        return Verdict::kSingleThread;
      }
    }
    return Verdict::kNone;
  }

  // The other locks held when the edge was taken (the gate candidates), sorted.
  std::vector<std::uint32_t> gates_of(const Evidence& ev, EdgeKey k, std::size_t limit = SIZE_MAX) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t l : model_->held_set(ev.held_set)) {
      if (out.size() == limit) break;
      if (l != k.from && l != k.to) out.push_back(l);
    }
    return out;
  }

  bool gated(const std::vector<const Evidence*>& pick, const std::vector<std::uint32_t>& cyc) const {
    const std::size_t n = cyc.size();
    std::vector<std::uint32_t> common = gates_of(*pick[0], EdgeKey{cyc[0], cyc[1 % n]});
    for (std::size_t i = 1; i < n && !common.empty(); ++i) {
      std::vector<std::uint32_t> mine = gates_of(*pick[i], EdgeKey{cyc[i], cyc[(i + 1) % n]}), next;
      std::set_intersection(common.begin(), common.end(), mine.begin(), mine.end(), std::back_inserter(next));
      common.swap(next);
    }
    return !common.empty();
  }




  Verdict judge(const std::vector<const Evidence*>& pick, const std::vector<std::uint32_t>& cyc) const {
    const std::size_t n = pick.size();
    for (std::size_t i = 0; i < n; ++i) {
      // Edge i requests the lock edge i+1 holds: reader-reader never blocks.
      if (pick[i]->acq_shared && pick[(i + 1) % n]->held_shared) return Verdict::kNone;
    }
    if (gated(pick, cyc)) return Verdict::kNone;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        if (!concurrent(*pick[i], *pick[j])) return Verdict::kInversion;
      }
    }
    return Verdict::kDeadlock;
  }

  Finding make_finding(Model& m, const std::vector<std::uint32_t>& cyc, const std::vector<const Evidence*>& pick,
                       Verdict v) {
    Finding f;
    f.kind = std::string(v == Verdict::kDeadlock ? kDeadlockPotential : kLockOrderInversion);
    f.severity = v == Verdict::kDeadlock ? Severity::kError : Severity::kWarning;
    for (std::uint32_t l : cyc) {
      f.cycle.push_back(m.lock(l).name);
      f.objects.push_back(m.lock(l).name);
    }
    f.cycle.push_back(m.lock(cyc[0]).name);
    const std::string drawn = draw_cycle(f.cycle);
    std::set<std::uint32_t> threads;
    for (std::size_t i = 0; i < cyc.size(); ++i) {
      const Evidence& ev = *pick[i];
      const ThreadState& t = m.thread(ev.thread);
      if (threads.insert(ev.thread).second) f.threads.push_back(t.label);
      const std::string& held = m.lock(cyc[i]).name;
      const std::string& wanted = m.lock(cyc[(i + 1) % cyc.size()]).name;
      Location a = m.location(t.process, ev.held_site, "holds " + held + (ev.held_shared ? " (shared)" : ""), ev.thread);
      Location b = m.location(t.process, ev.acq_site, "then acquires " + wanted + (ev.acq_shared ? " (shared)" : ""), ev.thread);
      a.locks_held.clear();
      b.locks_held.clear();
      for (std::uint32_t g : gates_of(ev, EdgeKey{cyc[i], cyc[(i + 1) % cyc.size()]})) b.locks_held.push_back(m.lock(g).name);
      b.locks_held.push_back(held);
      f.locations.push_back(std::move(a));
      f.locations.push_back(std::move(b));
    }
    if (v == Verdict::kDeadlock) {
      f.message = "potential deadlock: lock order cycle " + drawn + " between " + std::to_string(f.threads.size()) +
                  " threads that can run concurrently";
      f.advice = "Acquire these locks in one global order everywhere (e.g. always " + f.cycle[0] + " before " +
                 f.cycle[1] + "), or take them together with std::scoped_lock.";
    } else if (v == Verdict::kInversion) {
      f.message = "lock order inversion " + drawn + " (the threads involved were ordered by thread start/join, "
                  "semaphores or events in this run, so it cannot deadlock as written)";
      f.advice = "Harmless as long as that ordering holds; use one lock order anyway so a future change cannot "
                 "turn it into a deadlock.";
    } else {
      f.message = "lock order inversion " + drawn + " within " + f.threads.front() +
                  " (one thread cannot deadlock with itself; two threads running these paths could)";
      f.advice = "Use one lock order on every path.";
    }
    if (m.multi_process()) f.process = m.process_label(m.lock(cyc[0]).key.process);
    return f;
  }

  FlatMap<EdgeKey, std::vector<Evidence>, EdgeKeyHash> edges_;
  const Model* model_ = nullptr;
};

}  // namespace

std::unique_ptr<Detector> make_lock_order_detector() { return std::make_unique<LockOrderDetector>(); }

}  // namespace lockgraph::analysis
