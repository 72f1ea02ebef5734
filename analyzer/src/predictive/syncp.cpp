// SyncP race prediction (see syncp.hpp for the algorithm and the paper).
#include "syncp.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LOCKGRAPH_SYNCP_AVX2 1
#endif

#include <algorithm>
#include <vector>

#include "candidate_list.hpp"
#include "positioned_list.hpp"
#include "sync_ideal.hpp"

namespace lockgraph::analysis::predictive {
namespace {

struct HeldLock {
  std::uint32_t lock = 0;
  std::uint32_t position = 0;  // trace position of its (outermost) acquire
};

// The locks a thread held, one snapshot per change that an access saw, in a list per thread:
// a header {lock: how many, position: the thread's event index when it was taken} and then the
// locks. Candidates of the thread refer to their snapshot by position; snapshots only candidates
// every closure has passed refer to are dropped from the front (State::forget_passed_snapshots),
// so the lists follow the live candidates, not the trace.
using HeldPool = PositionedList<HeldLock>;

// A thread's accesses to one variable (one list for reads and writes: a read is checked against
// the writes in it, skipping the reads, which its cursor then passes for good), two to a cache
// line (the look-ahead loads one with one prefetch).
struct alignas(32) ThreadAccesses {
  CandidateList list;
};
static_assert(sizeof(ThreadAccesses) == 32);

// Per (variable, thread) state in flat tables whose row x holds `stride` entries, one per thread,
// so an access finds its state by arithmetic on (x, t) instead of through a per-variable record
// and its vectors (each level of those was a cache miss per access): the candidate lists; the
// index + 1 (0: none) of each thread's latest write and latest access — a thread whose latest one
// is inside the checking thread's closure has no candidate left and is skipped without touching
// its list or cursor; and the two cursors each checking thread keeps into every thread's list
// (one for its reads, one for its writes). Cost per variable and thread: 32 bytes of list, 8 bytes of latest
// indices and 8 x stride bytes of cursors (stride: the threads seen, rounded up to a power of
// two) — the cursors grow with threads squared, as they did per variable before the tables.
class VariableTables {
 public:
  // Makes room for variable x and threads [0, threads). References into the tables are valid
  // until the next fit().
  void fit(std::uint32_t x, std::uint32_t threads) {
    if (threads > stride_) restride(threads);
    if (x >= variables_) grow(x);
  }
  bool has(std::uint32_t x, std::uint32_t t) const { return x < variables_ && t < stride_; }
  // Do the rows hold an entry for each of `threads` threads? (Not yet when a thread appeared
  // since the last fit().)
  bool spans(std::uint32_t threads) const { return threads <= stride_; }
  std::size_t candidates() const {
    std::size_t n = 0;
    for (const ThreadAccesses& a : lists_) n += a.list.size();
    return n;
  }

  CandidateList& list(std::uint32_t x, std::uint32_t u) { return lists_[row(x) + u].list; }
  const CandidateList& list(std::uint32_t x, std::uint32_t u) const { return lists_[row(x) + u].list; }
  // Every thread's latest write to x (of_all false) or access (true), as index + 1.
  std::uint32_t* latest(bool of_all, std::uint32_t x) { return &latest_[2 * row(x) + (of_all ? stride_ : 0)]; }
  const std::uint32_t* latest(bool of_all, std::uint32_t x) const {
    return &latest_[2 * row(x) + (of_all ? stride_ : 0)];
  }
  // The cursors checking thread t keeps into every thread's list, for its reads (of_all false:
  // they pass reads and stop at writes) or its writes.
  std::uint32_t* cursors(bool of_all, std::uint32_t x, std::uint32_t t) { return &cursors_[cursor_row(x, t, of_all)]; }
  const std::uint32_t* cursors(bool of_all, std::uint32_t x, std::uint32_t t) const {
    return &cursors_[cursor_row(x, t, of_all)];
  }

 private:
  std::size_t row(std::uint32_t x) const { return std::size_t(x) * stride_; }
  std::size_t cursor_row(std::uint32_t x, std::uint32_t t, bool of_all) const {
    return ((row(x) + t) * 2 + (of_all ? 1 : 0)) * stride_;
  }
  void grow(std::uint32_t x) {
    variables_ = std::max<std::uint32_t>(x + 1, variables_ + variables_ / 2);
    grow_to(lists_, std::size_t(variables_) * stride_);
    grow_to(latest_, 2 * std::size_t(variables_) * stride_);
    grow_to(cursors_, 2 * std::size_t(variables_) * stride_ * stride_);
  }
  // Room for four times the old capacity at once, of which only the entries in use are written
  // (value-initialized): each reallocation writes its whole new block (the copy and the zeros), and
  // fresh memory's first touch is the cost here — a page fault per huge page, ~0.1-1.2 ms per MiB
  // on this project's VM. Growing the room by 1.5x with the variables touched 3x the final tables
  // (24 MiB for the cursors of 4,096 variables and 16 threads against 8): 5% of syncp's time.
  template <class T>
  static void grow_to(std::vector<T>& v, std::size_t n) {
    if (n > v.capacity()) v.reserve(std::max(n, 4 * v.capacity()));
    v.resize(n);
  }
  // More threads than a row holds (rare: threads start early): the tables are laid out again.
  void restride(std::uint32_t threads) {
    std::uint32_t wider = std::max<std::uint32_t>(stride_, 4);
    while (wider < threads) wider *= 2;
    VariableTables t;
    t.stride_ = wider;
    t.variables_ = variables_;
    t.lists_.resize(std::size_t(variables_) * wider);
    t.latest_.resize(2 * std::size_t(variables_) * wider, 0);
    t.cursors_.resize(2 * std::size_t(variables_) * wider * wider, 0);
    for (std::uint32_t x = 0; x < variables_; ++x) {
      for (std::uint32_t u = 0; u < stride_; ++u) {
        t.list(x, u) = std::move(list(x, u));
        for (bool of_all : {false, true}) {
          t.latest(of_all, x)[u] = latest(of_all, x)[u];
          std::copy_n(cursors(of_all, x, u), stride_, t.cursors(of_all, x, u));
        }
      }
    }
    *this = std::move(t);
  }

  std::uint32_t stride_ = 0, variables_ = 0;
  std::vector<ThreadAccesses> lists_;
  std::vector<std::uint32_t> latest_, cursors_;
};

}  // namespace

// Written out in SSE2: g++ left the shift-and-or loop scalar, about ten instructions a thread on
// every access (an eighth of syncp's instructions with 16 threads).
std::uint64_t threads_outside_sse2(const std::uint32_t* latest, const std::uint32_t* frontier, std::uint32_t threads) {
  std::uint64_t todo = 0;
  std::uint32_t u = 0;
#if defined(__SSE2__)
  const __m128i bias = _mm_set1_epi32(std::int32_t(0x80000000u));  // unsigned order as signed
  const __m128i one = _mm_set1_epi32(1), zero = _mm_setzero_si128();
  for (; u + 4 <= threads; u += 4) {
    const __m128i l = _mm_loadu_si128(reinterpret_cast<const __m128i*>(latest + u));
    const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(frontier + u));
    const __m128i past = _mm_cmpgt_epi32(_mm_xor_si128(_mm_sub_epi32(l, one), bias), _mm_xor_si128(f, bias));
    const __m128i hit = _mm_andnot_si128(_mm_cmpeq_epi32(l, zero), past);
    todo |= std::uint64_t(_mm_movemask_ps(_mm_castsi128_ps(hit))) << u;
  }
#endif
  for (; u < threads; ++u) todo |= std::uint64_t((latest[u] != 0) & (latest[u] - 1 > frontier[u])) << u;
  return todo;
}

#if defined(LOCKGRAPH_SYNCP_AVX2)
// The same comparison eight threads a step: with 16 threads two steps instead of four, ~30 fewer
// instructions per access (the build targets plain x86-64, so this one is compiled for AVX2 alone
// and chosen at run time). Step for step threads_outside_sse2 in 256-bit registers: intrinsics
// of one width cannot be written once for both, and a template over them would have to carry
// the target attribute through every helper.
__attribute__((target("avx2"))) static std::uint64_t threads_outside_avx2(const std::uint32_t* latest,
                                                                          const std::uint32_t* frontier,
                                                                          std::uint32_t threads) {
  std::uint64_t todo = 0;
  std::uint32_t u = 0;
  const __m256i bias = _mm256_set1_epi32(std::int32_t(0x80000000u));  // unsigned order as signed
  const __m256i one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256();
  for (; u + 8 <= threads; u += 8) {
    const __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(latest + u));
    const __m256i f = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(frontier + u));
    const __m256i past = _mm256_cmpgt_epi32(_mm256_xor_si256(_mm256_sub_epi32(l, one), bias), _mm256_xor_si256(f, bias));
    const __m256i hit = _mm256_andnot_si256(_mm256_cmpeq_epi32(l, zero), past);
    todo |= std::uint64_t(static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(hit)))) << u;
  }
  if (u < threads) todo |= threads_outside_sse2(latest + u, frontier + u, threads - u) << u;
  return todo;
}
#endif

bool threads_outside_uses_avx2() {
#if defined(LOCKGRAPH_SYNCP_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
#else
  return false;
#endif
}

namespace {
using ThreadsOutsideFn = std::uint64_t (*)(const std::uint32_t*, const std::uint32_t*, std::uint32_t);
// Chosen once per predictor: a call through the wrapper below and its check cost a quarter of
// the comparison itself.
ThreadsOutsideFn threads_outside_function() {
#if defined(LOCKGRAPH_SYNCP_AVX2)
  if (threads_outside_uses_avx2()) return threads_outside_avx2;
#endif
  return threads_outside_sse2;
}
}  // namespace

std::uint64_t threads_outside(const std::uint32_t* latest, const std::uint32_t* frontier, std::uint32_t threads) {
  return threads_outside_function()(latest, frontier, threads);
}

struct SyncpPredictor::State {
  const ThreadsOutsideFn outside = threads_outside_function();
  SyncHistory history;
  std::vector<SyncIdeal> prefix;                       // J_t
  std::vector<std::vector<std::uint32_t>> last_acquire;  // [thread][lock]: trace position, 0 = never
  // Per thread: the snapshot of the locks it holds now — its position in the thread's pool (the
  // first lock's; 0 while it holds none), or kUnbounded when the locks changed since.
  std::vector<std::uint32_t> held_snapshot;
  std::vector<HeldPool> held_pools;                    // per thread
  VariableTables vars;

  // Where a thread's closure J_t stands. Only the closures of kForked and kRunning threads can
  // still be asked about candidates, so only they hold back what is let go of.
  enum class Life : std::uint8_t { kUnseen, kForked, kRunning, kJoined };
  std::vector<Life> life;
  static bool in_use(Life l) { return l == Life::kForked || l == Life::kRunning; }

  std::uint32_t known_threads = 0;  // the per-thread vectors' size (prefix's would take a division)
  void ensure_thread(std::uint32_t t) {
    if (t >= known_threads) make_room_for_thread(t);
  }
  [[gnu::noinline]] void make_room_for_thread(std::uint32_t t) {
    life.resize(t + 1, Life::kUnseen);
    prefix.resize(t + 1);
    last_acquire.resize(t + 1);
    held_snapshot.resize(t + 1, kUnbounded);
    held_pools.resize(t + 1);
    known_threads = t + 1;
  }

  // The locks t holds now (the history's critical sections) as of its event `index`, in t's pool:
  // one copy per change. Nothing is stored while t holds none.
  [[gnu::always_inline]] std::uint32_t snapshot(std::uint32_t t, std::uint32_t index) {
    return held_snapshot[t] != kUnbounded ? held_snapshot[t] : take_snapshot(t, index);
  }
  [[gnu::noinline]] std::uint32_t take_snapshot(std::uint32_t t, std::uint32_t index) {
    const auto& held = history.held(t);
    std::uint32_t& now = held_snapshot[t];
    now = 0;
    if (held.empty()) return now;  // no locks: candidates say held 0
    HeldPool& pool = held_pools[t];
    pool.items.push_back(HeldLock{static_cast<std::uint32_t>(held.size()), index});
    now = pool.end();
    for (const auto& h : held) pool.items.push_back(HeldLock{h.lock, history.rules(t)[h.info].position});
    return now;
  }

  // e1 (a candidate of thread u) held a lock that t acquired again after e1's acquire of it (and
  // before now): both acquires are in any closure of (e1, e2), so e1's critical section has to
  // end first. Also true when e1's snapshot was let go of (forget_passed_snapshots): e1 is then
  // inside every closure that was in use, and only a thread seen later without a fork can reach
  // it — one whose races with what was let go of are not looked for (warned about).
  bool refuted_by_locks(const Candidate& c, std::uint32_t u, std::uint32_t t) const {
    if (c.held == 0) return false;
    const HeldPool& pool = held_pools[u];
    if (c.held < pool.base) return true;
    const auto& mine = last_acquire[t];
    const std::uint32_t count = pool[c.held - 1].lock;  // the snapshot's header
    for (std::uint32_t i = 0; i < count; ++i) {
      const HeldLock& h = pool[c.held + i];
      if (h.lock < mine.size() && mine[h.lock] > h.position) return true;
    }
    return false;
  }

  // Snapshots of u that only candidates at or before `bound` (inside every closure: dead_before)
  // can refer to — those followed by a snapshot taken at or before it — are dropped, once they are
  // at least half of the pool (so moving what is kept costs O(1) per entry).
  void forget_passed_snapshots(std::uint32_t u, std::uint32_t bound) {
    HeldPool& pool = held_pools[u];
    std::uint32_t p = pool.base;
    while (p < pool.end()) {
      const std::uint32_t next = p + 1 + pool[p].lock;
      if (next >= pool.end() || pool[next].position > bound) break;
      p = next;
    }
    const std::uint32_t passed = p - pool.base;
    if (passed == 0 || passed < pool.items.size() / 2) return;
    pool.drop_before(p);
    dropped_any = true;  // a thread seen later without a fork could have needed them
    if (pool.items.capacity() > 2 * pool.items.size() + 1024) pool.items.shrink_to_fit();
  }

  // The first candidate after `frontier`, from `from` on. The answer is usually `from` itself or
  // close to it: galloping (doubling steps, then a binary search in the last one) touches a few
  // entries where a binary search over the whole rest would miss the cache at every step.
  static std::uint32_t first_after(const CandidateList& candidates, std::uint32_t from, std::uint32_t frontier) {
    from = std::max(from, candidates.base());  // what was dropped is inside every closure
    const Candidate* list = candidates.data();
    const std::uint32_t n = candidates.size();
    std::uint32_t lo = from - candidates.base();
    if (lo >= n || list[lo].index > frontier) return from;
    std::uint32_t step = 1;  // list[lo].index <= frontier
    while (lo + step < n && list[lo + step].index <= frontier) lo += step, step *= 2;
    const Candidate* it = std::upper_bound(list + lo + 1, list + std::min(n, lo + step + 1), frontier,
                                           [](std::uint32_t f, const Candidate& c) { return f < c.index; });
    return candidates.base() + static_cast<std::uint32_t>(it - list);
  }

  // Memory bounded by what can still race, not by the trace: a candidate of thread u at or
  // before dead_before[u] is inside the closure J_t of every thread t that exists, and J_t only
  // grows, so no cursor will ever stop at it again. A thread forked later starts from its parent's
  // prefix, so its closure contains its parent's: the bound holds for it too. A closure that took
  // a whole thread (an open critical section had to end: kUnbounded) may shrink in a later thread's
  // closure of the same events, so it counts as knowing nothing. Recomputed every
  // `release_every` events (0: never); a list is trimmed when it would otherwise grow its storage.
  std::uint32_t release_every = 0;
  bool rules_dropped = false;  // some thread's rules were forgotten (forget_passed_rules)
  SyncIdeal floor;             // valid when rules_dropped: where a thread without a fork starts
  std::vector<std::uint32_t> dead_before;  // per thread: candidate index bound (empty: none dropped)
  // Events until the next refresh_dead() (one decrement per event; with release_every 0 it counts
  // down from 2^64, never reaching 0 in practice).
  std::uint64_t until_refresh = ~std::uint64_t(0);
  void restart_refresh_countdown() { until_refresh = release_every != 0 ? release_every : ~std::uint64_t(0); }
  bool dropped_any = false;                // a thread seen later without a fork would have needed them
  std::uint32_t started_without_history = 0;  // such threads (reported as a problem)

  static bool trusted(const SyncIdeal& j) {
    const std::vector<std::uint32_t>& f = j.frontiers();
    return std::find(f.begin(), f.end(), kUnbounded) == f.end();
  }

  void refresh_dead() {
    restart_refresh_countdown();
    const std::uint32_t n = std::min<std::uint32_t>(history.threads(), static_cast<std::uint32_t>(prefix.size()));
    dead_before.assign(n, kUnbounded);
    bool all_trusted = true;
    std::uint32_t users = 0;
    for (std::uint32_t t = 0; t < n; ++t) {
      if (!in_use(life[t])) continue;
      ++users;
      const bool sure = trusted(prefix[t]);
      all_trusted = all_trusted && sure;
      for (std::uint32_t u = 0; u < n; ++u) {
        if (u == t) continue;
        dead_before[u] = std::min(dead_before[u], sure ? prefix[t].frontier(u) : 0);
      }
    }
    if (users < 2) dead_before.assign(n, 0);  // nobody else to race with yet
    for (std::uint32_t u = 0; u < n; ++u) {
      if (dead_before[u] != 0 && dead_before[u] != kUnbounded) forget_passed_snapshots(u, dead_before[u]);
    }
    if (all_trusted && users >= 2) forget_passed_rules(n);
  }

  // Rules are forgotten in runs of at least this many (fewer with a small release_every, so that
  // tests on small traces cover it).
  std::uint32_t min_forget() const { return std::clamp<std::uint32_t>(release_every / 4, 1, 1024); }

  // The closure's rules are kept per thread, 16 bytes per read of another thread's write and per
  // critical section: for a long trace, most of the memory. Rules every closure in use has
  // applied (below its cursor), that no closure keeps as a lock's latest acquire and that start no
  // critical section still open are read by nobody again; they are forgotten once they are at
  // least half of their thread's list (so the moving of what is kept costs O(1) per rule). A
  // forked thread starts from a copy of its parent's closure taken at the fork, which its own
  // contains: exact. A thread seen later without a fork starts from the floor, a copy of the
  // smallest closure in use: closed, containing every forgotten rule's event, but perhaps more
  // than its own closure (sound, maybe incomplete: warned). Only done while no closure in use took
  // a whole thread (kUnbounded: see refresh_dead).
  void forget_passed_rules(std::uint32_t n) {
    std::vector<std::uint32_t> lowest(n, kUnbounded);
    auto lower = [&](const SyncIdeal& j) {
      for (std::uint32_t u = 0; u < n; ++u) lowest[u] = std::min(lowest[u], j.cursor(u));
      j.lower_to_rules_in_use(lowest);
    };
    std::size_t smallest = 0;
    std::uint64_t smallest_sum = ~std::uint64_t(0);
    for (std::uint32_t t = 0; t < n; ++t) {
      if (!in_use(life[t])) continue;
      lower(prefix[t]);
      std::uint64_t sum = 0;
      for (std::uint32_t f : prefix[t].frontiers()) sum += f;
      if (sum < smallest_sum) smallest_sum = sum, smallest = t;
    }
    bool forgot = false;
    for (std::uint32_t u = 0; u < n; ++u) {
      for (const auto& h : history.held(u)) lowest[u] = std::min<std::uint32_t>(lowest[u], static_cast<std::uint32_t>(h.info));
      const RuleList& r = history.rules(u);
      if (lowest[u] == kUnbounded || lowest[u] <= r.base) continue;
      const std::uint32_t passed = std::min(lowest[u], r.end()) - r.base;
      if (passed < r.items.size() / 2 || passed < min_forget()) continue;
      history.forget_rules_before(u, lowest[u]);
      forgot = true;
    }
    if (forgot) {
      floor = prefix[smallest];
      rules_dropped = true;
      dropped_any = true;
    }
  }

  [[gnu::always_inline]] void append(CandidateList& list, std::uint32_t u, const Candidate& c) {
    if (list.push(c, u < dead_before.size() ? dead_before[u] : 0)) dropped_any = true;
  }

  // For access e (event `index` of its thread t), the threads base + bit of `todo` that may hold
  // a partner: each one's earliest candidate that races with it, if any (see syncp.hpp).
  [[gnu::noinline]] void check_threads(const StdEvent& e, bool write, std::uint32_t index, std::uint32_t base,
                                       std::uint64_t todo, RacePairs& races) {
    const std::uint32_t t = e.thread, x = e.target;
    SyncIdeal& j = prefix[t];
    std::uint32_t* cursors = vars.cursors(write, x, t);
    for (; todo != 0; todo &= todo - 1) {
      const std::uint32_t u = base + static_cast<std::uint32_t>(__builtin_ctzll(todo));
      const CandidateList& list = vars.list(x, u);
      std::uint32_t& cursor = cursors[u];
      std::uint32_t c = first_after(list, cursor, j.frontier(u));
      while (c < list.end()) {
        const Candidate& cand = list[c];
        if ((!write && !cand.write()) || refuted_by_locks(cand, u, t)) {
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
        ++races[PairKey{x, cand.location(), e.location, u, t, cand.write(), write}];
        break;
      }
      cursor = c;
    }
  }

  // Inline into step(), like the other per-event paths: out-of-line calls' entries and exits
  // were ~8% of syncp's instructions.
  [[gnu::always_inline]] void access(const StdEvent& e, bool write, RacePairs& races) {
    const std::uint32_t t = e.thread, x = e.target;
    const std::uint32_t index = history.next_event(t);
    const std::uint32_t threads = history.threads();
    vars.fit(x, threads);
    SyncIdeal& j = prefix[t];
    j.enable(history, t, index);
    j.close(history);
    if (!j.contains(t, index)) {
      // The threads whose latest access is still outside the closure, 64 at a time in one
      // branch-free pass over two arrays, so only their lists and cursors are touched. (A check's
      // trial extension is rolled back, so the frontiers it reads stay as they were.) Most
      // accesses have none: the checks are a call of their own, off this path.
      const std::uint32_t* latest = vars.latest(write, x);
      if (threads <= 64) {  // the usual case, without the chunk arithmetic (2% of syncp's instructions)
        const std::uint64_t todo = outside(latest, j.frontiers().data(), threads) & ~(std::uint64_t(1) << t);
        if (todo != 0) check_threads(e, write, index, 0, todo, races);
      } else {
        for (std::uint32_t base = 0; base < threads; base += 64) {
          std::uint64_t todo = outside(latest + base, j.frontiers().data() + base, std::min(threads - base, 64u));
          if (t >= base && t - base < 64) todo &= ~(std::uint64_t(1) << (t - base));
          if (todo != 0) check_threads(e, write, index, base, todo, races);
        }
      }
    }
    if (write) {
      history.write(t, x, index);
    } else {
      history.read(t, x, index);
    }
    const Candidate mine{index, e.location | (write ? Candidate::kWrite : 0), snapshot(t, index)};
    append(vars.list(x, t), t, mine);
    vars.latest(true, x)[t] = index + 1;
    if (write) vars.latest(false, x)[t] = index + 1;
  }

  // Hints for an access some steps of the look-ahead away (SyncpPredictor::on_events): each
  // starts loading one level of what the access will read, from what the stage before it loaded.
  // They change nothing, and what they work out may be stale by the time the access comes (its
  // thread's closure may grow meanwhile): a wrong guess costs a useless load, never a result.
  //
  // Far: what every access reads by position — its thread's list and the latest
  // accesses it is checked against (a write against every access, a read against writes).
  [[gnu::always_inline]] void prefetch_far(const StdEvent& e) const {
    if (e.op != StdOp::kRead && e.op != StdOp::kWrite) return;
    const std::uint32_t x = e.target, t = e.thread;
    if (!vars.has(x, t)) return;
    const bool write = e.op == StdOp::kWrite;
    __builtin_prefetch(&vars.list(x, t));
    __builtin_prefetch(vars.latest(write, x));
  }
  // Near: the list's tail, where the access appends, and — when its check will likely visit
  // threads (its closure as it stands now: about one access in nine) — its cursors and those
  // threads' lists. (Loading the cursors for every access cost more than it saved: the
  // loads in flight are few, and eight in nine of those were never read.) Returns the threads
  // (0: none or unknown) for prefetch_partners().
  [[gnu::always_inline]] std::uint64_t prefetch_near(const StdEvent& e) const {
    if (e.op != StdOp::kRead && e.op != StdOp::kWrite) return 0;
    const std::uint32_t x = e.target, t = e.thread;
    if (!vars.has(x, t)) return 0;
    const bool write = e.op == StdOp::kWrite;
    if (const Candidate* slot = vars.list(x, t).next_slot()) __builtin_prefetch(slot);
    const std::uint32_t threads = history.threads();
    if (t >= known_threads || threads > 64 || !vars.spans(threads) || prefix[t].frontiers().size() < threads) return 0;
    std::uint64_t todo = outside(vars.latest(write, x), prefix[t].frontiers().data(), threads) & ~(std::uint64_t(1) << t);
    if (todo != 0) __builtin_prefetch(vars.cursors(write, x, t));
    for (std::uint64_t left = todo; left != 0; left &= left - 1) {
      __builtin_prefetch(&vars.list(x, static_cast<std::uint32_t>(__builtin_ctzll(left))));
    }
    return todo;
  }
  // Last: for each such thread, the candidate its cursor stands at (the first one the check reads,
  // from the header the near stage loaded). Without these two stages a check waited for two cache
  // misses in a row, four fifths of its time at 10^7 events.
  [[gnu::always_inline]] void prefetch_partners(const StdEvent& e, std::uint64_t todo) const {
    const std::uint32_t x = e.target, t = e.thread;
    const bool write = e.op == StdOp::kWrite;
    const std::uint32_t* cursors = vars.cursors(write, x, t);
    for (; todo != 0; todo &= todo - 1) {
      const std::uint32_t u = static_cast<std::uint32_t>(__builtin_ctzll(todo));
      const CandidateList& list = vars.list(x, u);
      const std::uint32_t at = std::max(cursors[u], list.base()) - list.base();
      if (at < list.size()) __builtin_prefetch(list.data() + at);
    }
  }

  [[gnu::always_inline]] void step(const StdEvent& e, RacePairs& races) {
    ensure_thread(e.thread);
    if (life[e.thread] != Life::kRunning) {
      // A thread's first event (or one after its join: a malformed trace). Without a fork its
      // closure starts empty and it may race with what was let go of already; once rules were
      // forgotten it must start from the floor.
      if (life[e.thread] != Life::kForked) {
        if (dropped_any) ++started_without_history;
        if (rules_dropped) prefix[e.thread] = floor;
      }
      life[e.thread] = Life::kRunning;
    }
    if (--until_refresh == 0) refresh_dead();
    const std::uint32_t t = e.thread;
    switch (e.op) {
      case StdOp::kRead:
      case StdOp::kWrite: access(e, e.op == StdOp::kWrite, races); return;
      case StdOp::kAcquire: {
        const std::uint32_t index = history.next_event(t);
        if (history.acquire(t, e.target, index)) held_snapshot[t] = kUnbounded;
        auto& last = last_acquire[t];
        if (last.size() <= e.target) last.resize(e.target + 1, 0);
        last[e.target] = history.position();
        return;
      }
      case StdOp::kRelease: {
        const std::uint32_t index = history.next_event(t);
        if (history.release(t, e.target, index)) held_snapshot[t] = kUnbounded;
        return;
      }
      case StdOp::kFork: {
        ensure_thread(e.target);
        if (history.length(e.target) == 0 && life[e.target] == Life::kUnseen) {
          // The child's closure contains its parent's up to here: it starts from a copy of it (see
          // forget_passed_rules). A parent's closure that took a whole thread may be larger than
          // the child's own; then the child starts from scratch while that is still possible, and
          // from the floor after.
          if (trusted(prefix[t])) {
            prefix[e.target] = prefix[t];
          } else if (rules_dropped) {
            prefix[e.target] = floor;
            ++started_without_history;  // sound, but races may be missing
          }
          life[e.target] = Life::kForked;
        }
        history.fork(t, e.target, history.next_event(t));
        return;
      }
      case StdOp::kJoin: {
        ensure_thread(e.target);
        if (life[e.target] == Life::kRunning) life[e.target] = Life::kJoined;  // no more events
        history.join(t, e.target, history.next_event(t));
        return;
      }
      case StdOp::kBegin:
      case StdOp::kEnd: history.next_event(t); return;
    }
  }
};

SyncpPredictor::SyncpPredictor(std::uint32_t release_every) : s_(std::make_unique<State>()) {
  s_->release_every = release_every;
  s_->restart_refresh_countdown();
}
std::uint32_t SyncpPredictor::threads_started_without_their_history() const { return s_->started_without_history; }
std::size_t SyncpPredictor::kept_entries() const {
  const State& s = *s_;
  std::size_t n = 0;
  for (std::uint32_t t = 0; t < s.history.threads(); ++t) n += s.history.rules(t).items.size();
  for (const HeldPool& pool : s.held_pools) n += pool.items.size();
  return n + s.vars.candidates();
}
SyncpPredictor::~SyncpPredictor() = default;

void SyncpPredictor::on_event(const StdEvent& e) { s_->step(e, races); }

// The look-ahead at three distances, one per level of the state an access reads (State's
// prefetch_* hints), and the events, in one loop that the compiler sees whole. The near stage's
// guess of the threads to check waits in a ring until the last stage uses it.
void SyncpPredictor::on_events(const StdEvent* events, std::size_t count) {
  State& s = *s_;
  constexpr std::size_t kFar = 16, kNear = 6, kLast = 2;
  constexpr std::size_t kRing = 8;  // > kNear - kLast: a guess is read before its slot is reused
  std::uint64_t guesses[kRing] = {};
  for (std::size_t i = 0; i < count; ++i) {
    if (i + kFar < count) s.prefetch_far(events[i + kFar]);
    if (i + kNear < count) guesses[(i + kNear) % kRing] = s.prefetch_near(events[i + kNear]);
    if (i + kLast < count && guesses[(i + kLast) % kRing] != 0) {
      s.prefetch_partners(events[i + kLast], guesses[(i + kLast) % kRing]);
    }
    s.step(events[i], races);
  }
}

}  // namespace lockgraph::analysis::predictive
