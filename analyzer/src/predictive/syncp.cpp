// SyncP race prediction (see syncp.hpp for the algorithm and the paper).
#include "syncp.hpp"

#include <algorithm>
#include <vector>

#include "sync_ideal.hpp"

namespace lockgraph::analysis::predictive {
namespace {

struct HeldLock {
  std::uint32_t lock = 0;
  std::uint32_t position = 0;  // trace position of its (outermost) acquire
};

struct Candidate {
  std::uint32_t index = 0;      // on its thread
  std::uint32_t location = 0;
  std::uint32_t held = 0;       // offset of the locks held, in State::held_pool
  std::uint16_t held_count = 0;
  bool write = false;
};

// One thread's accesses (or writes) to one variable, in trace order. Positions are absolute:
// candidates every thread's closure has passed are dropped from the front (see
// State::dead_before), and `base` counts them, so the cursors into the list stay valid.
struct CandidateList {
  std::vector<Candidate> items;
  std::uint32_t base = 0;

  std::uint32_t end() const { return base + static_cast<std::uint32_t>(items.size()); }
  const Candidate& operator[](std::uint32_t position) const { return items[position - base]; }
};

struct VariableAccesses {
  std::vector<CandidateList> writes, all;  // per thread
  // One block per variable, for `threads` threads: per thread the index of its latest write and
  // latest access + 1 (0: none) — a thread whose latest one is inside the checking thread's closure
  // has no candidate left and is skipped without touching its list or cursor — then the cursors
  // [checking thread][other thread] into the write lists and into the access lists. One block,
  // not vectors of vectors: each level of those was a cache miss per access.
  std::uint32_t threads = 0;
  std::vector<std::uint32_t> cells;

  void fit(std::uint32_t n) {
    if (n <= threads) return;
    std::vector<std::uint32_t> grown(2 * n + 2 * std::size_t(n) * n, 0);
    for (std::uint32_t u = 0; u < threads; ++u) {
      grown[u] = last_write(u), grown[n + u] = last_any(u);
      for (std::uint32_t w = 0; w < threads; ++w) {
        grown[2 * n + std::size_t(u) * n + w] = cursor(false, u, w);
        grown[2 * n + std::size_t(n) * n + std::size_t(u) * n + w] = cursor(true, u, w);
      }
    }
    cells.swap(grown);
    threads = n;
    if (all.size() < n) all.resize(n), writes.resize(n);
  }
  std::uint32_t& last_write(std::uint32_t u) { return cells[u]; }
  std::uint32_t& last_any(std::uint32_t u) { return cells[threads + u]; }
  // The cursor a checking thread t keeps into u's write list (of_all false) or access list (true).
  std::uint32_t& cursor(bool of_all, std::uint32_t t, std::uint32_t u) {
    return cells[2 * threads + (of_all ? std::size_t(threads) * threads : 0) + std::size_t(t) * threads + u];
  }
};

}  // namespace

struct SyncpPredictor::State {
  SyncHistory history;
  std::vector<SyncIdeal> prefix;                       // J_t
  std::vector<std::vector<std::uint32_t>> last_acquire;  // [thread][lock]: trace position, 0 = never
  std::vector<std::uint32_t> held_snapshot;            // per thread: offset in held_pool, or kUnbounded
  std::vector<HeldLock> held_pool;
  std::vector<VariableAccesses> vars;

  void ensure_thread(std::uint32_t t) {
    if (prefix.size() <= t) {
      prefix.resize(t + 1);
      last_acquire.resize(t + 1);
      held_snapshot.resize(t + 1, kUnbounded);
    }
  }

  // The locks t holds now (the history's critical sections), in held_pool: one copy per change.
  std::uint32_t snapshot(std::uint32_t t) {
    if (held_snapshot[t] == kUnbounded) {
      held_snapshot[t] = static_cast<std::uint32_t>(held_pool.size());
      for (const auto& h : history.held(t)) held_pool.push_back(HeldLock{h.lock, history.rules(t)[h.info].position});
    }
    return held_snapshot[t];
  }

  // e1 held a lock that t acquired again after e1's acquire of it (and before now): both acquires
  // are in any closure of (e1, e2), so e1's critical section has to end first.
  bool refuted_by_locks(const Candidate& c, std::uint32_t t) const {
    const auto& mine = last_acquire[t];
    for (std::uint32_t i = 0; i < c.held_count; ++i) {
      const HeldLock& h = held_pool[c.held + i];
      if (h.lock < mine.size() && mine[h.lock] > h.position) return true;
    }
    return false;
  }

  // The first candidate after `frontier`, from `from` on. The answer is usually `from` itself or
  // close to it: galloping (doubling steps, then a binary search in the last one) touches a few
  // entries where a binary search over the whole rest would miss the cache at every step.
  static std::uint32_t first_after(const CandidateList& candidates, std::uint32_t from, std::uint32_t frontier) {
    from = std::max(from, candidates.base);  // what was dropped is inside every closure
    const std::vector<Candidate>& list = candidates.items;
    const std::size_t n = list.size();
    std::size_t lo = from - candidates.base;
    if (lo >= n || list[lo].index > frontier) return from;
    std::size_t step = 1;  // list[lo].index <= frontier
    while (lo + step < n && list[lo + step].index <= frontier) lo += step, step *= 2;
    auto it = std::upper_bound(list.begin() + static_cast<std::ptrdiff_t>(lo) + 1,
                               list.begin() + static_cast<std::ptrdiff_t>(std::min(n, lo + step + 1)), frontier,
                               [](std::uint32_t f, const Candidate& c) { return f < c.index; });
    return candidates.base + static_cast<std::uint32_t>(it - list.begin());
  }

  // Memory bounded by what can still race, not by the trace: a candidate of thread u at or
  // before dead_before[u] is inside the closure J_t of every thread t that exists, and J_t only
  // grows, so no cursor will ever stop at it again. A thread forked later starts from its parent's
  // prefix, so its closure contains its parent's: the bound holds for it too. A closure that took
  // a whole thread (an open critical section had to end: kUnbounded) may shrink in a later thread's
  // closure of the same events, so it counts as knowing nothing. Recomputed every
  // `release_every` events (0: never); a list is trimmed when it would otherwise grow its storage.
  std::uint32_t release_every = 0;
  std::vector<std::uint32_t> dead_before;  // per thread: candidate index bound (empty: none dropped)
  std::uint32_t events_since_refresh = 0;
  bool dropped_any = false;                // a thread seen later without a fork would have needed them
  std::uint32_t unforked_late = 0;         // such threads (reported as a problem)

  void refresh_dead() {
    events_since_refresh = 0;
    const std::uint32_t n = history.threads();
    dead_before.assign(n, kUnbounded);
    for (std::uint32_t t = 0; t < n; ++t) {
      const std::vector<std::uint32_t>& f = t < prefix.size() ? prefix[t].frontiers() : std::vector<std::uint32_t>{};
      const bool trusted = std::find(f.begin(), f.end(), kUnbounded) == f.end();
      for (std::uint32_t u = 0; u < n; ++u) {
        if (u == t) continue;
        const std::uint32_t known = trusted && u < f.size() ? f[u] : 0;
        dead_before[u] = std::min(dead_before[u], known);
      }
    }
    if (n == 1) dead_before[0] = 0;  // nobody else to race with yet
  }

  void append(CandidateList& list, std::uint32_t u, const Candidate& c) {
    if (list.items.size() == list.items.capacity() && !list.items.empty() && u < dead_before.size()) {
      const std::uint32_t bound = dead_before[u];
      auto keep = std::upper_bound(list.items.begin(), list.items.end(), bound,
                                   [](std::uint32_t b, const Candidate& x) { return b < x.index; });
      if (keep != list.items.begin()) {
        list.base += static_cast<std::uint32_t>(keep - list.items.begin());
        list.items.erase(list.items.begin(), keep);
        dropped_any = true;
      }
    }
    list.items.push_back(c);
  }

  void access(const StdEvent& e, bool write, RacePairs& races) {
    const std::uint32_t t = e.thread, x = e.target;
    const std::uint32_t index = history.next_event(t);
    if (vars.size() <= x) vars.resize(x + 1);
    VariableAccesses& v = vars[x];
    SyncIdeal& j = prefix[t];
    j.enable(history, t, index);
    j.close(history);
    const std::uint32_t threads = history.threads();
    if (!j.contains(t, index)) {
      v.fit(threads);
      const auto& lists = write ? v.all : v.writes;
      auto check_thread = [&](std::uint32_t u) {
        const CandidateList& list = lists[u];
        std::uint32_t& cursor = v.cursor(write, t, u);
        std::uint32_t c = first_after(list, cursor, j.frontier(u));
        while (c < list.end()) {
          const Candidate& cand = list[c];
          if (refuted_by_locks(cand, t)) {
            ++c;
            continue;
          }
          j.mark();
          j.enable(history, u, cand.index);
          j.close(history);
          if (j.contains(t, index)) {  // e2 itself must run first: no partner on u for this access
            j.rollback();
            break;
          }
          if (j.contains(u, cand.index)) {  // e1 must run first: so must it, for later accesses of t
            const std::uint32_t f = j.frontier(u);
            j.rollback();
            c = first_after(list, c, f);
            continue;
          }
          j.rollback();
          ++races[PairKey{x, cand.location, e.location, u, t, cand.write, write}];
          break;
        }
        cursor = c;
      };
      // The threads whose latest access is still outside the closure: for up to 64 threads one
      // branch-free pass over two arrays (vectorized), so only their lists and cursors are touched.
      const std::uint32_t* latest = write ? &v.last_any(0) : &v.last_write(0);
      if (threads <= 64) {
        const std::uint32_t* frontier = j.frontiers().data();  // close() sized it for every thread
        std::uint64_t todo = 0;
        for (std::uint32_t u = 0; u < threads; ++u) {
          todo |= std::uint64_t((latest[u] != 0) & (latest[u] - 1 > frontier[u])) << u;
        }
        todo &= ~(std::uint64_t(1) << t);
        for (; todo != 0; todo &= todo - 1) check_thread(static_cast<std::uint32_t>(__builtin_ctzll(todo)));
      } else {
        for (std::uint32_t u = 0; u < threads; ++u) {
          if (u != t && latest[u] != 0 && latest[u] - 1 > j.frontier(u)) check_thread(u);
        }
      }
    }
    if (write) {
      history.write(t, x, index);
    } else {
      history.read(t, x, index);
    }
    Candidate mine{index, e.location, snapshot(t),
                   static_cast<std::uint16_t>(std::min<std::size_t>(history.held(t).size(), 65535)), write};
    v.fit(t + 1);
    append(v.all[t], t, mine);
    v.last_any(t) = index + 1;
    if (write) append(v.writes[t], t, mine), v.last_write(t) = index + 1;
  }
};

SyncpPredictor::SyncpPredictor(std::uint32_t release_every) : s_(std::make_unique<State>()) {
  s_->release_every = release_every;
}
std::uint32_t SyncpPredictor::threads_started_late_without_fork() const { return s_->unforked_late; }
SyncpPredictor::~SyncpPredictor() = default;

void SyncpPredictor::prefetch(const StdEvent& e, int stage) const {
  if (e.op != StdOp::kRead && e.op != StdOp::kWrite) return;
  const State& s = *s_;
  if (e.target >= s.vars.size()) return;
  const VariableAccesses& v = s.vars[e.target];
  if (stage >= 3) {
    __builtin_prefetch(&v);
    return;
  }
  if (e.thread >= v.all.size()) return;
  if (stage == 2) {
    __builtin_prefetch(&v.all[e.thread]);
    if (e.op == StdOp::kWrite) __builtin_prefetch(&v.writes[e.thread]);
    if (!v.cells.empty()) __builtin_prefetch(v.cells.data());
    return;
  }
  const std::vector<Candidate>& mine = v.all[e.thread].items;
  __builtin_prefetch(mine.data() + mine.size());
  if (e.op == StdOp::kWrite) {
    const std::vector<Candidate>& writes = v.writes[e.thread].items;
    __builtin_prefetch(writes.data() + writes.size());
  }
}

void SyncpPredictor::on_event(const StdEvent& e) {
  State& s = *s_;
  if (e.thread >= s.history.threads() || s.history.length(e.thread) == 0) {
    // A thread's first event. Without a fork its closure starts empty: it may race with accesses
    // that were dropped already.
    if (s.dropped_any && s.history.forked_by(e.thread).index == 0) ++s.unforked_late;
  }
  if (s.release_every != 0 && ++s.events_since_refresh >= s.release_every) s.refresh_dead();
  s.ensure_thread(e.thread);
  const std::uint32_t t = e.thread;
  switch (e.op) {
    case StdOp::kRead: s.access(e, false, races); return;
    case StdOp::kWrite: s.access(e, true, races); return;
    case StdOp::kAcquire: {
      const std::uint32_t index = s.history.next_event(t);
      if (s.history.acquire(t, e.target, index)) s.held_snapshot[t] = kUnbounded;
      auto& last = s.last_acquire[t];
      if (last.size() <= e.target) last.resize(e.target + 1, 0);
      last[e.target] = s.history.position();
      return;
    }
    case StdOp::kRelease: {
      const std::uint32_t index = s.history.next_event(t);
      if (s.history.release(t, e.target, index)) s.held_snapshot[t] = kUnbounded;
      return;
    }
    case StdOp::kFork: {
      s.ensure_thread(e.target);
      s.history.fork(t, e.target, s.history.next_event(t));
      return;
    }
    case StdOp::kJoin: {
      s.ensure_thread(e.target);
      s.history.join(t, e.target, s.history.next_event(t));
      return;
    }
    case StdOp::kBegin:
    case StdOp::kEnd: s.history.next_event(t); return;
  }
}

}  // namespace lockgraph::analysis::predictive
