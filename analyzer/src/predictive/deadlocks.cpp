// Sync-preserving deadlock prediction (see deadlock_prediction.hpp; Tunç, Mathur, Pavlogiannis,
// Viswanathan, PLDI 2023). The closure is sync_ideal's, shared with SyncP races.
#include <algorithm>
#include <map>
#include <set>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/deadlock_prediction.hpp"
#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/flat_map.hpp"
#include "../graph_search.hpp"
#include "held_locks.hpp"
#include "sync_ideal.hpp"

namespace lockgraph::analysis {
namespace {

using predictive::SyncHistory;
using predictive::SyncIdeal;

struct EdgeKey {  // thread acquired `acquired` while holding `held`
  std::uint32_t thread, held, acquired;
  bool operator==(const EdgeKey&) const = default;
  bool operator<(const EdgeKey& o) const {
    return std::tie(thread, held, acquired) < std::tie(o.thread, o.held, o.acquired);
  }
};
struct EdgeKeyHash {  // FlatMap probes from the low bits: Fibonacci hashing's high half lands there
  std::size_t operator()(const EdgeKey& k) const noexcept {
    const std::uint64_t x = std::uint64_t(k.thread) << 42 ^ std::uint64_t(k.held) << 21 ^ k.acquired;
    return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ull) >> 32);
  }
};

using HeldAt = predictive::HeldLocks<std::uint32_t>;  // info: where the lock was acquired

struct Instance {  // one concrete acquisition along an edge
  std::uint32_t index = 0;          // the acquire's index on its thread
  std::uint32_t location = 0;
  std::uint32_t held_location = 0;  // where the held lock was acquired
  std::vector<std::uint32_t> held;  // every lock held then (sorted), for the gate-lock test
};

struct LoggedOp {  // lock operations, fork and join: what a witness shows
  std::uint32_t thread, index, target, location;
  StdOp op;
};

using Cycle = std::vector<EdgeKey>;  // edge i's acquired lock is edge i+1's held lock

bool share_a_lock(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    a[i] < b[j] ? ++i : ++j;
  }
  return false;
}

enum class Outcome { kNoCandidate, kPotential, kUndecided, kPredicted };

struct CycleResult {
  Outcome outcome = Outcome::kNoCandidate;
  std::vector<const Instance*> tuple;  // representative (potential) or witness (predicted)
  std::vector<std::uint32_t> frontier;  // predicted: the ideal
};

}  // namespace

struct DeadlockPredictor::Impl {
  DeadlockPredictionOptions options;
  HeldAt held;
  FlatMap<EdgeKey, bool, EdgeKeyHash> edges;  // the lock graph's edges (value unused): one probe per nested acquire

  // Second pass.
  SyncHistory history;
  std::map<EdgeKey, std::vector<Instance>> instances;  // edges on a cycle only
  std::vector<LoggedOp> log;
  std::uint64_t budget = 0;  // closure checks left
  std::uint64_t work = 0;    // closure steps spent
  bool budget_exhausted = false;
  bool cycle_search_cut = false;  // too many paths: some cycles were not enumerated

  std::vector<Cycle> find_cycles() {
    // Only edges inside one strongly connected component of the lock graph can be on a cycle; in
    // the usual case (a global lock order) there are none and nothing is searched.
    Adjacency<std::uint32_t> adj;
    edges.for_each([&](const EdgeKey& e, bool) { adj[e.held].push_back(e.acquired); });
    for (auto& [lock, next] : adj) {
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
    }
    const std::map<std::uint32_t, std::uint32_t> component = strongly_connected(adj);
    std::map<std::uint32_t, std::vector<EdgeKey>> out;  // by held lock, sorted for a stable order
    edges.for_each([&](const EdgeKey& e, bool) {
      if (e.held != e.acquired && component.at(e.held) == component.at(e.acquired)) out[e.held].push_back(e);
    });
    for (auto& [lock, list] : out) std::sort(list.begin(), list.end(), [](const EdgeKey& a, const EdgeKey& b) {
      return std::tie(a.acquired, a.thread) < std::tie(b.acquired, b.thread);
    });
    std::vector<Cycle> cycles;
    Cycle path;
    constexpr std::size_t kMaxCycles = 10000;
    std::uint64_t steps = 0;
    std::size_t length = 2;
    std::map<std::vector<std::uint32_t>, std::uint32_t> per_sequence;
    constexpr std::uint32_t kAssignmentsPerSequence = 16;
    constexpr std::uint64_t kMaxSteps = 20'000'000;  // dense, cyclic lock graphs: stop, say so
    // Each cycle once: it starts at its smallest lock and only visits larger ones.
    std::function<void(std::uint32_t, std::uint32_t)> dfs = [&](std::uint32_t start, std::uint32_t at) {
      auto it = out.find(at);
      if (it == out.end() || cycles.size() >= kMaxCycles || cycle_search_cut) return;
      for (const EdgeKey& e : it->second) {
        if (++steps > kMaxSteps) {
          cycle_search_cut = true;
          return;
        }
        bool thread_used = std::any_of(path.begin(), path.end(), [&](const EdgeKey& p) { return p.thread == e.thread; });
        if (thread_used) continue;
        if (e.acquired == start) {
          if (path.size() + 1 == length) {
            path.push_back(e);
            // A few thread assignments per lock sequence: more rarely decide more, and would
            // crowd other lock sets out of the list.
            std::vector<std::uint32_t> locks;
            for (const EdgeKey& p : path) locks.push_back(p.held);
            if (++per_sequence[locks] <= kAssignmentsPerSequence) cycles.push_back(path);
            path.pop_back();
          }
          continue;
        }
        bool lock_used = std::any_of(path.begin(), path.end(), [&](const EdgeKey& p) { return p.held == e.acquired; });
        if (e.acquired < start || lock_used || path.size() + 1 >= length) continue;
        path.push_back(e);
        dfs(start, e.acquired);
        path.pop_back();
      }
    };
    // Shortest cycles first (two threads, two locks: the usual deadlock), then longer ones.
    for (length = 2; length <= options.max_cycle_length; ++length) {
      for (const auto& [lock, list] : out) dfs(lock, lock);
    }
    return cycles;
  }

  void second_pass(const StdReplay& replay, const std::set<EdgeKey>& wanted) {
    HeldAt h;
    replay([&](const StdEvent& e) {
      const std::uint32_t t = e.thread;
      const std::uint32_t index = history.next_event(t);
      switch (e.op) {
        case StdOp::kAcquire: {
          const auto& now = h.of(t);
          if (!now.empty() && !h.holds(t, e.target)) {
            std::vector<std::uint32_t> locks;
            for (const auto& x : now) locks.push_back(x.lock);
            std::sort(locks.begin(), locks.end());
            for (const auto& x : now) {
              EdgeKey k{t, x.lock, e.target};
              if (!wanted.count(k)) continue;
              auto& list = instances[k];
              if (list.size() < options.instances_per_edge) list.push_back(Instance{index, e.location, x.info, locks});
            }
          }
          h.acquire(t, e.target, e.location);
          history.acquire(t, e.target, index);
          log.push_back(LoggedOp{t, index, e.target, e.location, e.op});
          break;
        }
        case StdOp::kRelease:
          h.release(t, e.target);
          history.release(t, e.target, index);
          log.push_back(LoggedOp{t, index, e.target, e.location, e.op});
          break;
        case StdOp::kRead: history.read(t, e.target, index); break;
        case StdOp::kWrite: history.write(t, e.target, index); break;
        case StdOp::kFork:
          history.fork(t, e.target, index);
          log.push_back(LoggedOp{t, index, e.target, e.location, e.op});
          break;
        case StdOp::kJoin:
          history.join(t, e.target, index);
          log.push_back(LoggedOp{t, index, e.target, e.location, e.op});
          break;
        case StdOp::kBegin:
        case StdOp::kEnd: break;
      }
    });
  }

  // One closure check from the budgets; false, with the cycle undecided, once one ran out.
  bool spend(const SyncIdeal& ideal, CycleResult& r) {
    if (budget == 0 || work + ideal.work() > options.work_budget) {
      budget_exhausted = true;
      r.outcome = Outcome::kUndecided;
      return false;
    }
    --budget;
    return true;
  }

  // Tries the cycle's concrete acquisitions in trace order until one tuple is a sync-preserving
  // deadlock: every acquisition enabled, none in the closure of their predecessors.
  // Two threads: monotone search (both closures only grow along each thread), so each pair of
  // instance lists costs about one pass instead of their product. For a fixed first acquisition
  // the closure grows with the second; a second acquisition found inside the closure stays inside
  // for every later first one, and a first one inside stays inside for every later second one.
  CycleResult check_pair(const Cycle& cycle, const std::vector<Instance>& first, const std::vector<Instance>& second) {
    CycleResult r;
    const std::uint32_t t1 = cycle[0].thread, t2 = cycle[1].thread;
    std::vector<char> dead(second.size(), 0);
    SyncIdeal ideal;
    for (const Instance& a : first) {
      ideal.enable(history, t1, a.index);
      ideal.close(history);
      if (ideal.contains(t1, a.index)) continue;
      ideal.mark();
      for (std::size_t j = 0; j < second.size(); ++j) {
        const Instance& b = second[j];
        if (dead[j] || share_a_lock(a.held, b.held)) continue;
        if (r.outcome == Outcome::kNoCandidate) r.outcome = Outcome::kPotential, r.tuple = {&a, &b};
        if (!spend(ideal, r)) {
          work += ideal.work();
          return r;
        }
        ideal.enable(history, t2, b.index);
        ideal.close(history);
        if (ideal.contains(t1, a.index)) break;
        if (ideal.contains(t2, b.index)) {
          dead[j] = 1;
          continue;
        }
        r.outcome = Outcome::kPredicted;
        r.tuple = {&a, &b};
        r.frontier = ideal.frontiers();
        work += ideal.work();
        return r;
      }
      ideal.rollback();
    }
    work += ideal.work();
    return r;
  }

  CycleResult check(const Cycle& cycle) {
    CycleResult r;
    std::vector<const std::vector<Instance>*> lists;
    for (const EdgeKey& e : cycle) {
      auto it = instances.find(e);
      if (it == instances.end() || it->second.empty()) return r;
      lists.push_back(&it->second);
    }
    if (cycle.size() == 2) return check_pair(cycle, *lists[0], *lists[1]);
    const std::size_t k = cycle.size();
    std::vector<const Instance*> chosen(k, nullptr);
    SyncIdeal ideal;
    std::function<bool(std::size_t)> choose = [&](std::size_t i) -> bool {
      for (const Instance& inst : *lists[i]) {
        bool gated = false;
        for (std::size_t j = 0; j < i && !gated; ++j) gated = share_a_lock(chosen[j]->held, inst.held);
        if (gated) continue;  // a common gate lock: these two acquisitions can never both wait
        chosen[i] = &inst;
        if (i + 1 < k) {
          if (choose(i + 1)) return true;
          if (budget_exhausted) return false;
          continue;
        }
        if (r.outcome == Outcome::kNoCandidate) r.outcome = Outcome::kPotential, r.tuple = chosen;
        if (!spend(ideal, r)) return false;
        ideal.clear();
        for (std::size_t j = 0; j < k; ++j) ideal.enable(history, cycle[j].thread, chosen[j]->index);
        ideal.close(history);
        bool earlier_inside = false, any_inside = false;
        for (std::size_t j = 0; j < k; ++j) {
          bool inside = ideal.contains(cycle[j].thread, chosen[j]->index);
          any_inside = any_inside || inside;
          if (inside && j + 1 < k) earlier_inside = true;
        }
        if (!any_inside) {
          r.outcome = Outcome::kPredicted;
          r.tuple = chosen;
          r.frontier = ideal.frontiers();
          return true;
        }
        // Later acquisitions of the last edge only grow the closure: an earlier edge's stays inside.
        if (earlier_inside) break;
      }
      return false;
    };
    choose(0);
    work += ideal.work();
    return r;
  }

  Finding build(const Cycle& cycle, const CycleResult& r, const StdTrace& names, const std::string& trace_name) {
    Finding f;
    const bool predicted = r.outcome == Outcome::kPredicted;
    f.kind = std::string(predicted ? kDeadlockPredicted : kDeadlockPotential);
    f.severity = Severity::kError;
    for (const EdgeKey& e : cycle) {
      f.cycle.push_back(names.locks[e.held]);
      f.objects.push_back(names.locks[e.held]);
      f.threads.push_back(names.threads[e.thread]);
    }
    f.cycle.push_back(names.locks[cycle[0].held]);
    const std::string drawn = draw_cycle(f.cycle);
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      const Instance& inst = *r.tuple[i];
      const std::string& thread = names.threads[cycle[i].thread];
      Location a = std_location(names, inst.held_location, trace_name);
      a.role = "holds " + names.locks[cycle[i].held];
      a.thread = thread;
      Location b = std_location(names, inst.location, trace_name);
      b.role = "then acquires " + names.locks[cycle[i].acquired];
      b.thread = thread;
      for (std::uint32_t l : inst.held) b.locks_held.push_back(names.locks[l]);
      f.locations.push_back(std::move(a));
      f.locations.push_back(std::move(b));
    }
    f.advice = "Acquire these locks in one global order everywhere (e.g. always " + f.cycle[0] + " before " + f.cycle[1] +
               "), or take them together with std::scoped_lock.";
    if (predicted) {
      f.message = "deadlock predicted: lock order cycle " + drawn + " between " + std::to_string(cycle.size()) +
                  " threads — a reordering of this run that keeps every lock's critical sections in order reaches it "
                  "(`lockgraph explain` prints the schedule)";
      add_witness(f, cycle, r, names, trace_name);
    } else if (r.outcome == Outcome::kUndecided) {
      f.message = "potential deadlock: lock order cycle " + drawn + " between " + std::to_string(cycle.size()) +
                  " threads (not decided: the prediction's search budget ran out)";
    } else {
      f.message = "potential deadlock: lock order cycle " + drawn + " between " + std::to_string(cycle.size()) +
                  " threads; no reordering that keeps the critical sections' order reaches it, so it is a deadlock "
                  "only if the program can take these locks in another order than this run did";
    }
    assign_fingerprint(f);
    return f;
  }

  void add_witness(Finding& f, const Cycle& cycle, const CycleResult& r, const StdTrace& names,
                   const std::string& trace_name) {
    std::vector<ScheduleStep> steps;
    auto step = [&](std::uint32_t thread, std::string op, std::uint32_t location, bool blocked) {
      Location l = std_location(names, location, trace_name);
      steps.push_back(ScheduleStep{names.threads[thread], std::move(op), l.file, l.line, blocked});
    };
    auto included = [&](const LoggedOp& op) {
      return op.thread < r.frontier.size() && op.index <= r.frontier[op.thread] &&
             (op.op == StdOp::kAcquire || op.op == StdOp::kRelease || op.op == StdOp::kFork || op.op == StdOp::kJoin);
    };
    // Only the last witness_steps are kept: count first, so a long witness is never built whole.
    std::uint64_t total = 0;
    for (const LoggedOp& op : log) total += included(op) ? 1 : 0;
    f.witness_omitted = total > options.witness_steps ? total - options.witness_steps : 0;
    std::uint64_t skip = f.witness_omitted;
    for (const LoggedOp& op : log) {
      if (!included(op)) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      switch (op.op) {
        case StdOp::kAcquire: step(op.thread, "acq(" + names.locks[op.target] + ")", op.location, false); break;
        case StdOp::kRelease: step(op.thread, "rel(" + names.locks[op.target] + ")", op.location, false); break;
        case StdOp::kFork: step(op.thread, "fork(" + names.threads[op.target] + ")", op.location, false); break;
        default: step(op.thread, "join(" + names.threads[op.target] + ")", op.location, false); break;
      }
    }
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      step(cycle[i].thread, "acq(" + names.locks[cycle[i].acquired] + ")", r.tuple[i]->location, true);
    }
    f.witness = std::move(steps);
  }
};

DeadlockPredictor::DeadlockPredictor(const DeadlockPredictionOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->budget = options.tuple_budget;
}
DeadlockPredictor::~DeadlockPredictor() {
  if (analysis_state_left_to_process_exit()) (void)impl_.release();  // see analysis.hpp
}

namespace {
// The first pass: the lock graph's edges, each (thread, held, acquired) once.
inline void record_lock_order(HeldAt& held, FlatMap<EdgeKey, bool, EdgeKeyHash>& edges, const StdEvent& e) {
  if (e.op == StdOp::kAcquire) {
    if (!held.holds(e.thread, e.target)) {
      for (const auto& x : held.of(e.thread)) edges.find_or_insert(EdgeKey{e.thread, x.lock, e.target});
    }
    held.acquire(e.thread, e.target, e.location);
  } else if (e.op == StdOp::kRelease) {
    held.release(e.thread, e.target);
  }
}
}  // namespace

void DeadlockPredictor::on_event(const StdEvent& e) { record_lock_order(impl_->held, impl_->edges, e); }

void DeadlockPredictor::on_events(const StdEvent* events, std::size_t count) {
  Impl& s = *impl_;
  for (std::size_t i = 0; i < count; ++i) record_lock_order(s.held, s.edges, events[i]);
}

AnalysisResult DeadlockPredictor::finish(const StdReplay& replay, const StdTrace& names, const std::string& trace_name) {
  Impl& s = *impl_;
  AnalysisResult result;
  std::vector<Cycle> cycles = s.find_cycles();
  if (s.cycle_search_cut || cycles.size() >= 10000) {
    result.problems.push_back(Problem{trace_name, 0, "deadlock prediction: the lock graph has too many cycles to list; "
                                                     "the first " + std::to_string(cycles.size()) + " are checked"});
  }
  if (cycles.empty()) return result;
  std::set<EdgeKey> wanted;
  for (const Cycle& c : cycles) wanted.insert(c.begin(), c.end());
  s.second_pass(replay, wanted);
  // One finding per set of locks: predicted if any thread assignment is, else potential.
  std::map<std::vector<std::uint32_t>, std::pair<const Cycle*, CycleResult>> best;
  for (const Cycle& c : cycles) {
    std::vector<std::uint32_t> locks;
    for (const EdgeKey& e : c) locks.push_back(e.held);
    std::sort(locks.begin(), locks.end());
    auto it = best.find(locks);
    if (it != best.end() && it->second.second.outcome == Outcome::kPredicted) continue;
    CycleResult r = s.check(c);
    if (r.outcome == Outcome::kNoCandidate) continue;
    if (it == best.end() || r.outcome > it->second.second.outcome) best[locks] = {&c, std::move(r)};
  }
  for (const auto& [locks, entry] : best) result.findings.push_back(s.build(*entry.first, entry.second, names, trace_name));
  return result;
}

AnalysisResult predict_deadlocks(const StdTrace& trace, const std::string& trace_name,
                                 const DeadlockPredictionOptions& options) {
  DeadlockPredictor p(options);
  for (const StdEvent& e : trace.events) p.on_event(e);
  return p.finish([&](const StdTrace::EventSink& sink) {
    for (const StdEvent& e : trace.events) sink(e);
  }, trace, trace_name);
}

}  // namespace lockgraph::analysis
