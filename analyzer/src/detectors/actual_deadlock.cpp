// deadlock_actual: threads that were blocked on each other for good — when the live watchdog
// fired (its kDeadlock record), or at the end of the trace (a killed or hung process).
//
// At the end of the replay every thread with a blocking lock request that was never granted is
// waiting; it waits for the lock's holders. A cycle in that wait-for graph (a self-loop is a
// re-lock of a non-recursive mutex) is a deadlock. A watchdog stall record (every thread blocked
// on semaphores, events, futures or joins, no lock cycle) is reported as well, naming what each
// thread waited for.
#include <algorithm>
#include <map>
#include <set>

#include "detector.hpp"

namespace lockgraph::analysis {
namespace {

struct StallEntry {
  std::uint32_t process;
  std::uint32_t tid;
  std::uint64_t object;
  std::uint32_t owner;
  std::uint8_t wait_kind;
  std::uint32_t site;
};

const char* wait_kind_name(std::uint8_t k) {
  switch (k) {
    case 1: return "lock";
    case 2: return "semaphore";
    case 3: return "event";
    case 4: return "condition variable";
    case 6: return "task result of pool";
    default: return "object";
  }
}

class ActualDeadlockDetector : public Detector {
 public:
  Hook hook() const override { return Hook::kAfter; }
  bool wants(Kind k) const override { return k == Kind::kDeadlock; }

  void after(const Event& e, Model&) override {
    if (e.kind != Kind::kDeadlock || e.flags != kStallCause) return;
    std::vector<StallEntry> entries;
    for (std::uint64_t i = 0; i < e.value && 4 * i + 3 < e.extra_words; ++i) {
      entries.push_back(StallEntry{e.process, std::uint32_t(e.extra[4 * i]), e.extra[4 * i + 1],
                                   std::uint32_t(e.extra[4 * i + 2] & 0xffffffffu),
                                   std::uint8_t(e.extra[4 * i + 2] >> 32), std::uint32_t(e.extra[4 * i + 3])});
    }
    stalls_.push_back(std::move(entries));
  }

  void finish(Model& m, AnalysisResult& result) override {
    // Wait-for graph of threads blocked in a lock request at the end of the trace.
    std::map<std::uint32_t, std::vector<std::uint32_t>> waits_for;
    for (std::uint32_t ti = 0; ti < m.threads().size(); ++ti) {
      const ThreadState& t = m.thread(ti);
      if (!t.pending_lock) continue;
      for (std::uint32_t h : m.lock(*t.pending_lock).holders) waits_for[ti].push_back(h);
    }
    std::set<std::vector<std::uint32_t>> seen;
    for (const auto& [start, next] : waits_for) {
      std::vector<std::uint32_t> path{start};
      std::uint32_t cur = start;
      while (true) {
        auto it = waits_for.find(cur);
        if (it == waits_for.end() || it->second.empty()) break;
        std::uint32_t nxt = it->second.front();
        auto pos = std::find(path.begin(), path.end(), nxt);
        if (pos != path.end()) {
          std::vector<std::uint32_t> cyc(pos, path.end());
          auto mn = std::min_element(cyc.begin(), cyc.end());
          std::rotate(cyc.begin(), mn, cyc.end());
          if (seen.insert(cyc).second) result.findings.push_back(cycle_finding(m, cyc));
          break;
        }
        path.push_back(nxt);
        cur = nxt;
      }
    }
    // A thread blocked on a lock that only ended threads hold waits forever.
    for (std::uint32_t ti = 0; ti < m.threads().size(); ++ti) {
      const ThreadState& t = m.thread(ti);
      if (!t.pending_lock || waits_for.count(ti) == 0) continue;
      const std::vector<std::uint32_t>& holders = waits_for[ti];
      bool orphaned = !holders.empty() && std::all_of(holders.begin(), holders.end(), [&](std::uint32_t h) {
        return h != ti && m.thread(h).ended;
      });
      if (orphaned) {
        result.findings.push_back(orphan_finding(m, ti, holders.front()));
        seen.insert({ti});
      }
    }
    if (seen.empty()) {
      for (const auto& stall : stalls_) result.findings.push_back(stall_finding(m, stall));
    }
  }

 private:
  static constexpr std::uint8_t kStallCause = 2;

  Finding cycle_finding(Model& m, const std::vector<std::uint32_t>& cyc) {
    Finding f;
    f.kind = std::string(kDeadlockActual);
    f.severity = Severity::kError;
    std::string chain;
    const std::size_t n = cyc.size();
    for (std::size_t i = 0; i < n; ++i) {
      const ThreadState& t = m.thread(cyc[i]);
      const LockInfo& want = m.lock(*t.pending_lock);
      const ThreadState& owner = m.thread(cyc[(i + 1) % n]);
      f.threads.push_back(t.label);
      f.objects.push_back(want.name);
      f.cycle.push_back(want.name);
      chain += (i ? "; " : "") + t.label + " waits for " + want.name + " held by " + owner.label;
      // Per thread: where it took the lock the previous thread in the cycle waits for, then where it waits.
      const ThreadState& prev = m.thread(cyc[(i + n - 1) % n]);
      for (const HeldLock& h : t.held) {
        if (h.lock == *prev.pending_lock) f.locations.push_back(acquisition(m, t.process, h, "", cyc[i]));
      }
      f.locations.push_back(m.location(t.process, t.pending_site, "waits for " + want.name, cyc[i]));
    }
    f.cycle.push_back(f.cycle.front());
    if (cyc.size() == 1) {
      f.message = "self-deadlock: " + f.threads[0] + " locks " + f.objects[0] +
                  ", a non-recursive mutex it already holds, and waits forever";
      f.advice = "Do not re-lock a mutex the thread holds: restructure the calls, or use a recursive_mutex "
                 "if re-entry is intended.";
    } else {
      f.message = "deadlock: " + chain;
      f.advice = "These threads hung. Acquire the locks in one global order, or take them together with "
                 "std::scoped_lock.";
    }
    if (m.multi_process()) f.process = m.process_label(m.thread(cyc[0]).process);
    return f;
  }

  // Where `thread` took lock `h`. Its held locks are those held now but that one: "acquired A
  // [holding A]" would tell the reader nothing.
  static Location acquisition(Model& m, std::uint32_t process, const HeldLock& h, const std::string& suffix,
                              std::uint32_t thread) {
    const std::string& name = m.lock(h.lock).name;
    Location l = m.location(process, h.site, "acquired " + name + suffix, thread);
    l.locks_held.erase(std::remove(l.locks_held.begin(), l.locks_held.end(), name), l.locks_held.end());
    return l;
  }

  Finding orphan_finding(Model& m, std::uint32_t waiter, std::uint32_t holder) {
    const ThreadState& t = m.thread(waiter);
    const ThreadState& h = m.thread(holder);
    const LockInfo& l = m.lock(*t.pending_lock);
    Finding f;
    f.kind = std::string(kDeadlockActual);
    f.severity = Severity::kError;
    f.threads = {t.label, h.label};
    f.objects = {l.name};
    f.message = t.label + " waits forever for " + l.name + ": " + h.label + " exited while holding it";
    for (const HeldLock& held : h.held) {
      if (held.lock == *t.pending_lock) f.locations.push_back(acquisition(m, h.process, held, ", never released", holder));
    }
    f.locations.push_back(m.location(t.process, t.pending_site, "waits for " + l.name, waiter));
    f.advice = "Release every lock before a thread ends (RAII guards do it), or hand the work back before exiting.";
    if (m.multi_process()) f.process = m.process_label(t.process);
    return f;
  }

  Finding stall_finding(Model& m, const std::vector<StallEntry>& stall) {
    Finding f;
    f.kind = std::string(kDeadlockActual);
    f.severity = Severity::kError;
    for (const StallEntry& s : stall) {
      std::uint32_t ti = m.thread_index(s.process, s.tid);
      const ThreadState& t = m.thread(ti);
      std::string what = s.wait_kind == 5 ? m.thread(m.thread_index(s.process, std::uint32_t(s.object))).label
                                          : std::string(wait_kind_name(s.wait_kind)) + " " + m.object_name(s.process, s.object);
      f.threads.push_back(t.label);
      f.objects.push_back(what);
      f.locations.push_back(m.location(s.process, s.site, "waits for " + what, ti));
    }
    std::string list;
    for (std::size_t i = 0; i < f.threads.size(); ++i) list += (i ? "; " : "") + f.threads[i] + " waits for " + f.objects[i];
    f.message = "all threads blocked for good (no thread left to wake the others): " + list;
    f.advice = "Something every thread waits for is only produced by a blocked thread. For a pool: a task that "
               "waits for a task queued behind it needs a free worker — use more workers or do not wait inside tasks.";
    if (m.multi_process() && !stall.empty()) f.process = m.process_label(stall.front().process);
    return f;
  }

  std::vector<std::vector<StallEntry>> stalls_;
};

}  // namespace

std::unique_ptr<Detector> make_actual_deadlock_detector() { return std::make_unique<ActualDeadlockDetector>(); }

}  // namespace lockgraph::analysis
