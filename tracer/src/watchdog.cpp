// The live deadlock watchdog: a background thread that samples every traced thread's wait state,
// builds the wait-for graph (thread -> lock it waits for -> owning thread) and, when a cycle has
// been stable for LOCKGRAPH_DEADLOCK_MS, or every thread has been blocked for LOCKGRAPH_STALL_MS,
// records a kDeadlock record, flushes the trace and ends the program (LOCKGRAPH_ON_DEADLOCK).
// Started by the first blocking wait, so programs that never block never pay for it.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/watchdog.hpp"
#include "process_trace.hpp"

namespace lockgraph::rt::internal {
namespace {

struct WaitSnapshot {
  std::string label;  // "thread 2" or "thread 2 (worker 1)"
  std::uint32_t tid;
  WaitKind kind;
  std::uint64_t object;
  std::uint32_t owner;
  std::uint32_t site;
  std::uint64_t since_ns;
  std::uint64_t generation;
};

std::uint64_t env_ms(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  unsigned long long x = std::strtoull(v, &end, 10);
  return (end != nullptr && *end == '\0') ? x : fallback;
}

std::vector<WaitSnapshot> snapshot(Process& p, std::size_t* live, std::set<std::uint32_t>* live_tids) {
  std::vector<WaitSnapshot> out;
  std::lock_guard<std::mutex> g(p.registry_mu);
  *live = 0;
  live_tids->clear();
  for (ThreadState* t = p.threads; t != nullptr; t = t->next_registered) {
    if (t->exited) continue;
    ++*live;
    live_tids->insert(t->tid);
    auto kind = static_cast<WaitKind>(t->wait_kind.load(std::memory_order_acquire));
    if (kind == WaitKind::kNone) continue;
    std::string label = "thread " + std::to_string(t->tid);
    if (t->name[0] != '\0') label += std::string(" (") + t->name + ")";
    out.push_back({label, t->tid, kind, t->wait_object.load(std::memory_order_relaxed),
                   t->wait_owner.load(std::memory_order_relaxed), t->wait_site.load(std::memory_order_relaxed),
                   t->wait_since_ns.load(std::memory_order_relaxed),
                   t->wait_generation.load(std::memory_order_relaxed)});
  }
  return out;
}

// Smallest-first search is unnecessary here: any cycle proves the deadlock; the analyzer reports it.
std::vector<std::uint32_t> find_cycle(const std::map<std::uint32_t, const WaitSnapshot*>& waits) {
  for (const auto& [start, w] : waits) {
    std::vector<std::uint32_t> path{start};
    std::uint32_t cur = start;
    for (std::size_t steps = 0; steps <= waits.size(); ++steps) {
      auto it = waits.find(cur);
      if (it == waits.end() || it->second->owner == 0) break;  // locks and joins name an owner
      std::uint32_t next = it->second->owner;
      for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == next) return std::vector<std::uint32_t>(path.begin() + std::ptrdiff_t(i), path.end());
      }
      path.push_back(next);
      cur = next;
    }
  }
  return {};
}

const char* kind_name(WaitKind k) {
  switch (k) {
    case WaitKind::kLock: return "lock";
    case WaitKind::kSemaphore: return "semaphore";
    case WaitKind::kEvent: return "event";
    case WaitKind::kCondition: return "condition variable";
    case WaitKind::kJoin: return "thread join";
    case WaitKind::kFuture: return "future";
    default: return "?";
  }
}

void report(Process& p, std::uint8_t reason, const std::vector<const WaitSnapshot*>& threads) {
  std::vector<std::uint64_t> payload = {0, 0, now_ns(), threads.size(), 0, 0};  // six fixed words, then extra
  for (const WaitSnapshot* w : threads) {
    payload.push_back(w->tid);
    payload.push_back(w->object);
    payload.push_back(std::uint64_t(w->owner) | (std::uint64_t(static_cast<std::uint8_t>(w->kind)) << 32));
    payload.push_back(w->site);
  }
  emit_process(format::Kind::kDeadlock, reason, payload.data(), payload.size());
  std::fprintf(stderr, "lockgraph: %s: %zu thread(s) blocked for good\n",
               reason == kDeadlockCycle    ? "deadlock detected"
               : reason == kDeadlockOrphan ? "lock held by an exited thread"
                                           : "all threads blocked (stall)",
               threads.size());
  for (const WaitSnapshot* w : threads) {
    std::string site = site_name(w->site);
    std::string what = kind_name(w->kind);
    if (w->kind == WaitKind::kLock) {
      if (std::string name = lock_name(w->object); !name.empty()) what += " " + name;
    }
    if (w->owner != 0) {
      std::string owner = "thread " + std::to_string(w->owner);
      if (reason == kDeadlockOrphan) owner += ", which has exited";
      for (const WaitSnapshot* o : threads) {
        if (o->tid == w->owner) owner = o->label;
      }
      std::fprintf(stderr, "lockgraph:   %s waits for %s at %s, held by %s\n", w->label.c_str(), what.c_str(),
                   site.c_str(), owner.c_str());
    } else {
      std::fprintf(stderr, "lockgraph:   %s waits for %s at %s\n", w->label.c_str(), what.c_str(), site.c_str());
    }
  }
  std::fprintf(stderr, "lockgraph: trace flushed to %s; `lockgraph analyze` gives the full report\n", p.path.c_str());
}

void act(Process& p) {
  const char* action = std::getenv("LOCKGRAPH_ON_DEADLOCK");
  if (action != nullptr && std::strcmp(action, "report") == 0) {
    flush();
    return;
  }
  write_trailer(1);
  flush();
  if (action != nullptr && std::strcmp(action, "abort") == 0) std::abort();
  (void)p;
  _exit(kDeadlockExitCode);
}

void watchdog_main() {
  tls_untraced = 1;  // a runtime thread: never traced
  Process& p = process();
  const std::uint64_t interval = env_ms("LOCKGRAPH_WATCHDOG_MS", 100);
  const std::uint64_t deadlock_ms = env_ms("LOCKGRAPH_DEADLOCK_MS", 500);
  const std::uint64_t stall_ms = env_ms("LOCKGRAPH_STALL_MS", 3000);
  std::map<std::uint32_t, std::uint64_t> previous;  // tid -> wait generation at the last scan
  std::set<std::vector<std::uint64_t>> reported;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(interval));
    std::size_t live = 0;
    std::set<std::uint32_t> live_tids;
    std::vector<WaitSnapshot> snap = snapshot(p, &live, &live_tids);
    std::uint64_t now = now_ns();
    std::map<std::uint32_t, const WaitSnapshot*> stable;  // unchanged since the last scan
    for (const WaitSnapshot& w : snap) {
      auto it = previous.find(w.tid);
      if (it != previous.end() && it->second == w.generation) stable.emplace(w.tid, &w);
    }
    previous.clear();
    for (const WaitSnapshot& w : snap) previous[w.tid] = w.generation;

    std::vector<const WaitSnapshot*> culprits;
    std::uint8_t reason = 0;
    std::vector<std::uint32_t> cycle = find_cycle(stable);
    // A lock whose owner has exited is never released: no need to wait for every thread to stall.
    const WaitSnapshot* orphaned = nullptr;
    for (const auto& [tid, w] : stable) {
      if (w->kind == WaitKind::kLock && w->owner != 0 && w->owner != tid && !live_tids.count(w->owner) &&
          now - w->since_ns >= deadlock_ms * 1000000u) {
        orphaned = w;
      }
    }
    if (cycle.empty() && orphaned != nullptr) {
      culprits.push_back(orphaned);
      reason = kDeadlockOrphan;
    } else if (!cycle.empty()) {
      bool old_enough = true;
      for (std::uint32_t tid : cycle) {
        const WaitSnapshot* w = stable.at(tid);
        old_enough = old_enough && now - w->since_ns >= deadlock_ms * 1000000u;
        culprits.push_back(w);
      }
      if (old_enough) reason = kDeadlockCycle;
    } else if (live > 0 && stable.size() == live) {
      bool old_enough = true;
      for (const auto& [tid, w] : stable) {
        old_enough = old_enough && now - w->since_ns >= stall_ms * 1000000u;
        culprits.push_back(w);
      }
      if (old_enough) reason = kDeadlockStall;
    }
    if (reason == 0) continue;
    std::vector<std::uint64_t> key;
    for (const WaitSnapshot* w : culprits) {
      key.push_back(w->tid);
      key.push_back(w->generation);
    }
    if (!reported.insert(key).second) continue;
    report(p, reason, culprits);
    act(p);
  }
}

}  // namespace

void start_watchdog_once() noexcept {
  static bool started = [] {
    const char* off = std::getenv("LOCKGRAPH_WATCHDOG");
    if (off != nullptr && std::strcmp(off, "0") == 0) return false;
    untraced_scope internal;
    std::thread(watchdog_main).detach();
    return true;
  }();
  (void)started;
}

}  // namespace lockgraph::rt::internal
