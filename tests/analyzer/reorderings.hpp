// Test oracle: every sync-preserving correct reordering of a small STD trace, by exhaustive
// search — independent of the closure algorithm the analyzer uses (sync_ideal), so the
// predictive tests can compare against the definition itself (Mathur, Pavlogiannis, Viswanathan,
// POPL 2021; Tunç et al., PLDI 2023): a reordering runs a prefix of each thread, every read sees
// the same write as in the trace, locks are exclusive, and every lock's acquisitions keep the
// trace's order.
// Cost: exponential; traces of ~20-30 events and 3 threads only.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "lockgraph/analyzer/std_trace.hpp"

namespace lockgraph::analysis::testing {

struct ReorderingState {
  static constexpr std::size_t npos = ~std::size_t(0);
  std::vector<std::size_t> next;     // per thread: position in the trace of its next event, npos if none (or not started)
  std::vector<std::size_t> holder;   // per lock: the thread holding it, npos if free
};

class Reorderings {
 public:
  explicit Reorderings(const StdTrace& t) : t_(t), by_thread_(t.threads.size()) {
    rf_.assign(t.events.size(), npos);
    release_of_.assign(t.events.size(), npos);
    std::map<std::uint32_t, std::size_t> last_write;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> open;
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      const StdEvent& e = t.events[i];
      index_.push_back(by_thread_[e.thread].size());
      by_thread_[e.thread].push_back(i);
      if (e.op == StdOp::kRead && last_write.count(e.target)) rf_[i] = last_write[e.target];
      if (e.op == StdOp::kWrite) last_write[e.target] = i;
      if (e.op == StdOp::kAcquire) open[{e.thread, e.target}] = i;
      if (e.op == StdOp::kRelease) release_of_[open[{e.thread, e.target}]] = i;
      if (e.op == StdOp::kFork) fork_of_[e.target] = i;
    }
  }

  // Calls visit once per reachable state.
  void explore(const std::function<void(const ReorderingState&)>& visit) {
    seen_.clear();
    step(std::vector<std::size_t>(by_thread_.size(), 0), std::vector<std::size_t>(t_.variables.size(), npos), visit);
  }

 private:
  static constexpr std::size_t npos = ReorderingState::npos;

  bool executed(const std::vector<std::size_t>& f, std::size_t pos) const { return index_[pos] < f[t_.events[pos].thread]; }
  bool started(const std::vector<std::size_t>& f, std::uint32_t u) const {
    auto it = fork_of_.find(u);
    return it == fork_of_.end() || executed(f, it->second);
  }

  void step(const std::vector<std::size_t>& f, const std::vector<std::size_t>& writer,
            const std::function<void(const ReorderingState&)>& visit) {
    std::vector<std::size_t> key = f;
    key.insert(key.end(), writer.begin(), writer.end());
    if (!seen_.insert(key).second) return;
    const auto threads = static_cast<std::uint32_t>(by_thread_.size());
    ReorderingState s;
    s.holder.assign(t_.locks.size(), npos);
    for (std::size_t i = 0; i < t_.events.size(); ++i) {
      const StdEvent& e = t_.events[i];
      if (e.op == StdOp::kAcquire && executed(f, i) && (release_of_[i] == npos || !executed(f, release_of_[i]))) {
        s.holder[e.target] = e.thread;
      }
    }
    for (std::uint32_t u = 0; u < threads; ++u) {
      s.next.push_back(f[u] < by_thread_[u].size() && started(f, u) ? by_thread_[u][f[u]] : npos);
    }
    visit(s);
    for (std::uint32_t u = 0; u < threads; ++u) {
      const std::size_t pos = s.next[u];
      if (pos == npos) continue;
      const StdEvent& e = t_.events[pos];
      std::vector<std::size_t> w = writer;
      if (e.op == StdOp::kRead && w[e.target] != rf_[pos]) continue;
      if (e.op == StdOp::kWrite) w[e.target] = pos;
      if (e.op == StdOp::kJoin && f[e.target] < by_thread_[e.target].size()) continue;
      if (e.op == StdOp::kAcquire) {
        if (s.holder[e.target] != npos) continue;
        bool later_ran = false;  // sync-preserving: no later acquisition of this lock ran already
        for (std::size_t i = pos + 1; i < t_.events.size() && !later_ran; ++i) {
          later_ran = t_.events[i].op == StdOp::kAcquire && t_.events[i].target == e.target && executed(f, i);
        }
        if (later_ran) continue;
      }
      std::vector<std::size_t> g = f;
      ++g[u];
      step(g, w, visit);
    }
  }

  const StdTrace& t_;
  std::vector<std::vector<std::size_t>> by_thread_;
  std::vector<std::size_t> index_, rf_, release_of_;
  std::map<std::uint32_t, std::size_t> fork_of_;
  std::set<std::vector<std::size_t>> seen_;
};

}  // namespace lockgraph::analysis::testing
