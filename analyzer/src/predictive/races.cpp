// hb, shb and wcp race detection over STD traces (see predictive.hpp for the papers).
//
// One pass; per thread a happens-before clock H (and for wcp a WCP clock P, with
// C_t = P_t[t := H_t(t)] the clock races are checked against). Per variable the last write's
// epoch and each thread's last read epoch, with their locations, as in FastTrack.
// wcp, following the PLDI 2017 algorithm: at acquire, H_t and P_t join the lock's; inside a
// critical section on l a read (write) of x joins into P_t the HB clocks of earlier releases of l
// whose critical sections wrote (read or wrote) x — rule (a); at release, every earlier critical
// section on l whose acquire is already WCP-before this point orders its release before this one
// — rule (c), kept as one list per lock with a read cursor per thread (the paper's queues).
#include <algorithm>
#include <charconv>
#include <cctype>
#include <map>
#include <tuple>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/flat_map.hpp"
#include "lockgraph/analyzer/vector_clock.hpp"
#include "race_pairs.hpp"
#include "lockset.hpp"
#include "syncp.hpp"

namespace lockgraph::analysis {
namespace {

struct Access {
  std::uint32_t thread = 0;
  std::uint32_t clock = 0;  // 0: none
  std::uint32_t location = 0;
  bool write = false;
};

// wcp rule (a) joins, at an access to x inside a critical section on l, the H clocks of the
// earlier releases of l whose critical sections read (wrote) x. The releases of one lock are
// totally ordered by HB (each acquire joins the previous release), so their H clocks grow: the
// join of any of them is the latest one's clock. So per (x, l) only the latest reading and
// writing release is kept, as a reference to a shared, reference-counted snapshot of its H clock
// (one per release; two clocks per pair before: tens of MB, and a DRAM miss per access), with the
// release's number on l. A thread that already joined release n of l
// has every earlier release of l too, so the common repeat costs no clock read at all.
// A lock whose releases are not ordered (released by a thread not holding it, or held by two
// threads at once: a malformed trace) keeps exact joins instead: its snapshots are per entry.
struct LockedRelease {
  std::uint32_t snapshot = 0;  // index into snapshots_ + 1; 0: none
  std::uint32_t number = 0;    // the release's number on its lock
};
struct LockedAccesses {
  LockedRelease read, write;
};
struct ReleaseSnapshot {
  VectorClock h;
  std::uint32_t refs = 0;
};

// (variable, lock) -> LockedAccesses: a variable can be accessed under many locks (each outer
// lock of a nested section counts), so a per-variable list was scanned at every access.
std::uint64_t locked_key(std::uint32_t variable, std::uint32_t lock) { return std::uint64_t(variable) << 32 | lock; }
struct LockedKeyHash {
  std::size_t operator()(std::uint64_t k) const noexcept { return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ull) >> 32); }
};

// Per variable: the last write, and which threads read it since (their reads are in the
// predictor's dense reads_ table). 24 bytes, so the per-access working set stays in cache.
struct VariableState {
  std::uint32_t write_thread = 0;
  std::uint32_t write_clock = 0;  // 0: no write yet
  std::uint32_t write_location = 0;
  bool high_readers = false;      // a thread >= 64 read since the last write
  std::uint64_t readers = 0;      // bit u: thread u < 64 read since the last write
};

struct ReadEntry {  // thread u's last read of a variable since its last write
  std::uint32_t clock = 0;  // 0: none
  std::uint32_t location = 0;
};

struct alignas(64) CriticalSection {  // wcp: one acquire/release of a lock
  // Rule (c) reads thread and released of every section, and the acquire clock of most: they
  // come first, so a step touches two cache lines instead of three.
  std::uint32_t thread = 0;
  bool released = false;
  VectorClock acquire;       // C_t at the acquire
  VectorClock release;       // H_t at the release
};

struct LockState {
  VectorClock h, p;                                  // H_l, P_l: the last release's clocks
  std::vector<LockedAccesses> by_variable;           // wcp rule (a), while dense (see locked_at)
  bool sparse = false;                               // wcp rule (a): this lock's pairs are in locked_
  std::uint32_t releases = 0;                        // wcp: numbers the releases that touched variables
  std::uint32_t holder = 0, depth = 0;               // wcp: who holds it now (depth 0: nobody)
  bool unordered = false;                            // wcp: releases not ordered by HB (malformed)
  std::vector<CriticalSection> sections;             // wcp, in acquire order, from `base`
  std::size_t base = 0;
  std::vector<std::size_t> cursor;                   // per thread (absolute index)
  std::vector<bool> user;                            // threads that took this lock
};

struct OpenSection {         // wcp: what the thread accessed inside a critical section it holds
  std::uint32_t lock = 0;
  std::size_t index = 0;     // absolute index into the lock's sections
  std::vector<std::uint32_t> reads, writes;
};

using predictive::PairKey;

class Predictor {
 public:
  Predictor(RaceAnalysis a, std::size_t dense_budget) : a_(a), dense_budget_(dense_budget) {}

  void on_event(const StdEvent& e) {
    ensure_thread(e.thread);
    switch (e.op) {
      case StdOp::kAcquire: ensure_lock(e.target), acquire(e.thread, e.target); break;
      case StdOp::kRelease: ensure_lock(e.target), release(e.thread, e.target); break;
      case StdOp::kRead: ensure_variable(e.target), access(e, false); break;
      case StdOp::kWrite: ensure_variable(e.target), access(e, true); break;
      case StdOp::kFork: ensure_thread(e.target), fork(e.thread, e.target); break;
      case StdOp::kJoin: ensure_thread(e.target), join(e.thread, e.target); break;
      case StdOp::kBegin:
      case StdOp::kEnd: break;  // atomic-block markers: no ordering of their own
    }
  }

  // Starts loading what an access a few events ahead will touch: its variable's state and reads
  // and, for wcp, rule (a)'s entry of each lock its thread holds now (a table of locks x
  // variables, far larger than the cache: that one load was half of an access's time). Only a
  // hint: state that does not exist yet is left alone.
  void prefetch(const StdEvent& e) const {
    if (e.op != StdOp::kRead && e.op != StdOp::kWrite) return;
    const std::uint32_t x = e.target;
    if (x >= vars_.size()) return;
    __builtin_prefetch(&vars_[x]);
    __builtin_prefetch(&reads_[std::size_t(x) * stride_]);
    if (!wcp() || e.thread >= open_.size()) return;
    for (const OpenSection& o : open_[e.thread]) {
      const LockState& s = locks_[o.lock];
      if (!s.sparse && x < s.by_variable.size()) __builtin_prefetch(&s.by_variable[x]);
    }
  }

  predictive::RacePairs races;

 private:
  bool wcp() const { return a_ == RaceAnalysis::kWcp; }

  // Ids are dense and appear in any order: state grows on first sight.
  void ensure_thread(std::uint32_t t) {
    if (t >= h_.size()) add_threads(t);
  }
  void add_threads(std::uint32_t t) {
    while (h_.size() <= t) {
      auto i = static_cast<std::uint32_t>(h_.size());
      h_.emplace_back().set(i, 1);
      p_.emplace_back();
      open_.emplace_back();
      joined_.emplace_back();
    }
    if (t >= stride_) {  // re-lay the reads table out for more threads (rare: threads start early)
      std::size_t stride = stride_;
      while (stride <= t) stride *= 2;
      std::vector<ReadEntry> wider(vars_.size() * stride);
      for (std::size_t x = 0; x < vars_.size(); ++x) {
        std::copy_n(reads_.begin() + static_cast<std::ptrdiff_t>(x * stride_), stride_,
                    wider.begin() + static_cast<std::ptrdiff_t>(x * stride));
      }
      reads_.swap(wider);
      stride_ = stride;
    }
  }
  // Inline (once per access); the growth is not.
  [[gnu::always_inline]] void ensure_variable(std::uint32_t x) {
    if (vars_.size() <= x) add_variables(x);
    if (a_ == RaceAnalysis::kShb && last_write_clock_.size() <= x) last_write_clock_.resize(x + 1);
  }
  [[gnu::noinline]] void add_variables(std::uint32_t x) {
    std::size_t n = std::max<std::size_t>(x + 1, vars_.size() + vars_.size() / 2);
    vars_.resize(n);
    reads_.resize(n * stride_);
  }
  void ensure_lock(std::uint32_t l) {
    if (locks_.size() <= l) locks_.resize(l + 1);
  }

  // The clock accesses are checked against: H for hb/shb, C = P[t := H(t)] for wcp.
  std::uint32_t knows(std::uint32_t t, std::uint32_t u) const {
    if (!wcp() || u == t) return h_[t].get(u);
    return p_[t].get(u);
  }
  VectorClock c_clock(std::uint32_t t) const {
    VectorClock c = p_[t];
    c.set(t, h_[t].get(t));
    return c;
  }

  void acquire(std::uint32_t t, std::uint32_t l) {
    LockState& s = locks_[l];
    h_[t].join(s.h);
    if (wcp()) {
      p_[t].join(s.p);
      if (s.depth == 0 || s.holder == t) {
        s.holder = t;
        ++s.depth;
      } else {
        s.unordered = true;
      }
      if (s.user.size() <= t) s.user.resize(t + 1, false), s.cursor.resize(t + 1, s.base);
      if (!s.user[t]) s.user[t] = true, s.cursor[t] = std::max(s.cursor[t], s.base);
      s.sections.push_back(CriticalSection{t, false, c_clock(t), {}});
      open_[t].push_back(OpenSection{l, s.base + s.sections.size() - 1, spare_list(), spare_list()});
    }
  }

  void release(std::uint32_t t, std::uint32_t l) {
    LockState& s = locks_[l];
    if (wcp()) {
      // Rule (c): an earlier critical section whose acquire is WCP-before this point has its
      // release WCP-before this release.
      scratch_ = p_[t];  // C_t, in a buffer reused across releases
      scratch_.set(t, h_[t].get(t));
      const VectorClock& c = scratch_;
      if (s.cursor.size() <= t) s.user.resize(t + 1, false), s.cursor.resize(t + 1, s.base);  // released unheld
      std::size_t& cur = s.cursor[t];
      // The releases of an ordered lock are ordered by HB, so their H clocks grow along the list:
      // joining the last one that qualifies joins them all (the checks use C_t as it was before
      // this loop, so deferring the join changes none of them).
      const VectorClock* latest = nullptr;
      while (cur < s.base + s.sections.size()) {
        CriticalSection& cs = s.sections[cur - s.base];
        if (cs.thread == t || !cs.released) {
          if (cs.thread != t) break;
          ++cur;
          continue;
        }
        if (!cs.acquire.leq(c)) break;
        if (s.unordered) {
          p_[t].join(cs.release);
        } else {
          latest = &cs.release;
        }
        ++cur;
      }
      if (latest != nullptr) p_[t].join(*latest);
      // Rule (a) bookkeeping: the variables this critical section touched, with this release.
      auto it = std::find_if(open_[t].rbegin(), open_[t].rend(), [&](const OpenSection& o) { return o.lock == l; });
      if (s.depth > 0 && s.holder == t) {
        --s.depth;
      } else {
        s.unordered = true;
      }
      if (it != open_[t].rend()) {
        if (!it->reads.empty() || !it->writes.empty()) {
          const LockedRelease now{new_snapshot(h_[t]), ++s.releases};
          for (std::uint32_t x : it->reads) record_release(locked_at(l, x).read, now, s.unordered);
          for (std::uint32_t x : it->writes) record_release(locked_at(l, x).write, now, s.unordered);
          drop_snapshot(now.snapshot);  // the entries hold it now (or nothing does)
        }
        CriticalSection& mine = s.sections[it->index - s.base];
        mine.release = h_[t];
        mine.released = true;
        recycle_list(it->reads), recycle_list(it->writes);
        open_[t].erase(std::next(it).base());
      }
      s.p = p_[t];
      collect(s);
    }
    s.h = h_[t];
    h_[t].tick(t);
  }

  // Rule (a)'s pairs of lock l: a dense table per lock, indexed by variable, while all the dense
  // tables together stay within dense_budget_ entries (no hashing, and 16 bytes a pair instead of
  // a 32-byte slot at most half full); past that, a lock's pairs move to the hash map locked_.
  // Inline for a dense table that has the variable (the usual case, at every release for each
  // variable its critical section touched); growing it, or a sparse lock, out of line.
  [[gnu::always_inline]] LockedAccesses& locked_at(std::uint32_t l, std::uint32_t x) {
    LockState& s = locks_[l];
    if (!s.sparse && x < s.by_variable.size()) return s.by_variable[x];
    return locked_at_general(s, l, x);
  }
  [[gnu::noinline]] LockedAccesses& locked_at_general(LockState& s, std::uint32_t l, std::uint32_t x) {
    if (!s.sparse && x >= s.by_variable.size()) {
      const std::size_t want = std::max<std::size_t>(vars_.size(), std::size_t(x) + 1);
      if (dense_pairs_ - s.by_variable.size() + want <= dense_budget_) {
        dense_pairs_ += want - s.by_variable.size();
        s.by_variable.resize(want);
      } else {
        for (std::uint32_t y = 0; y < s.by_variable.size(); ++y) {
          const LockedAccesses& a = s.by_variable[y];
          if (a.read.snapshot != 0 || a.write.snapshot != 0) locked_.find_or_insert(locked_key(y, l)) = a;
        }
        dense_pairs_ -= s.by_variable.size();
        s.by_variable = {};
        s.sparse = true;
      }
    }
    return s.sparse ? locked_.find_or_insert(locked_key(x, l)) : s.by_variable[x];
  }
  const LockedAccesses* locked_find(std::uint32_t l, std::uint32_t x) {
    const LockState& s = locks_[l];
    if (!s.sparse) return x < s.by_variable.size() ? &s.by_variable[x] : nullptr;
    return locked_.find(locked_key(x, l));
  }

  // A snapshot of `h` with one reference (the caller's).
  std::uint32_t new_snapshot(const VectorClock& h) {
    std::uint32_t i;
    if (!free_snapshots_.empty()) {
      i = free_snapshots_.back();
      free_snapshots_.pop_back();
    } else {
      i = static_cast<std::uint32_t>(snapshots_.size());
      snapshots_.emplace_back();
    }
    snapshots_[i].h = h;
    snapshots_[i].refs = 1;
    return i + 1;
  }
  [[gnu::always_inline]] void drop_snapshot(std::uint32_t ref) {
    if (ref != 0 && --snapshots_[ref - 1].refs == 0) free_snapshots_.push_back(ref - 1);
  }
  // The entry's latest release becomes `now`; on an unordered lock the entry keeps the join.
  // Inline for an ordered lock (the usual case); the join an unordered one keeps, out of line.
  [[gnu::always_inline]] void record_release(LockedRelease& entry, const LockedRelease& now, bool unordered) {
    const std::uint32_t old = entry.snapshot;
    if (unordered && old != 0) return record_unordered_release(entry, now);
    entry = now;
    ++snapshots_[now.snapshot - 1].refs;
    drop_snapshot(old);
  }
  [[gnu::noinline]] void record_unordered_release(LockedRelease& entry, const LockedRelease& now) {
    const std::uint32_t old = entry.snapshot;
    VectorClock joined = snapshots_[old - 1].h;
    joined.join(snapshots_[now.snapshot - 1].h);
    entry = LockedRelease{new_snapshot(joined), now.number};
    drop_snapshot(old);
  }
  // Rule (a)'s join of a release of lock l into P_t, skipped when t joined a later one of l.
  [[gnu::always_inline]] void join_release(std::uint32_t t, std::uint32_t l, const LockedRelease& r) {
    if (r.snapshot == 0) return;
    if (!locks_[l].unordered) {
      std::vector<std::uint32_t>& seen = joined_[t];
      if (seen.size() <= l) seen.resize(l + 1, 0);
      if (r.number <= seen[l]) return;
      seen[l] = r.number;
    }
    p_[t].join(snapshots_[r.snapshot - 1].h);
  }

  // The variables lists of closed critical sections, emptied, for the next ones: allocating two
  // at every acquire (and growing them) was a twelfth of wcp's instructions.
  [[gnu::always_inline]] std::vector<std::uint32_t> spare_list() {
    if (spare_lists_.empty()) return {};
    std::vector<std::uint32_t> v = std::move(spare_lists_.back());
    spare_lists_.pop_back();
    return v;
  }
  [[gnu::always_inline]] void recycle_list(std::vector<std::uint32_t>& v) {
    v.clear();
    spare_lists_.push_back(std::move(v));
  }

  // Drops critical sections every thread using the lock has passed.
  void collect(LockState& s) {
    if (s.sections.size() < 1024) return;
    std::size_t low = s.base + s.sections.size();
    for (std::size_t u = 0; u < s.user.size(); ++u) {
      if (s.user[u]) low = std::min(low, s.cursor[u]);
    }
    std::size_t drop = low - s.base;
    if (drop < s.sections.size() / 2) return;
    for (const auto& sections : open_) {
      for (const OpenSection& o : sections) {
        if (&locks_[o.lock] == &s) drop = std::min(drop, o.index - s.base);
      }
    }
    s.sections.erase(s.sections.begin(), s.sections.begin() + static_cast<std::ptrdiff_t>(drop));
    s.base += drop;
  }

  void fork(std::uint32_t t, std::uint32_t u) {
    h_[u].join(h_[t]);
    if (wcp()) p_[u].join(c_clock(t));  // a fork orders like program order: never reorderable
    h_[t].tick(t);
  }

  void join(std::uint32_t t, std::uint32_t u) {
    h_[t].join(h_[u]);
    if (wcp()) p_[t].join(c_clock(u));
  }

  void access(const StdEvent& e, bool write) {
    const std::uint32_t t = e.thread, x = e.target;
    if (wcp()) {
      // Rule (a): conflicting accesses in critical sections on a lock held now.
      for (OpenSection& o : open_[t]) {
        if (const LockedAccesses* la = locked_find(o.lock, x)) {
          join_release(t, o.lock, la->write);
          if (write) join_release(t, o.lock, la->read);
          // This section's release will replace the entry's snapshot and drop its reference:
          // load that (usually long untouched) count now rather than then.
          const LockedRelease& replaced = write ? la->write : la->read;
          if (replaced.snapshot != 0) __builtin_prefetch(&snapshots_[replaced.snapshot - 1].refs, 1);
        }
        auto& list = write ? o.writes : o.reads;
        if (std::find(list.begin(), list.end(), x) == list.end()) list.push_back(x);
      }
    }
    VariableState& v = vars_[x];
    ReadEntry* reads = &reads_[std::size_t(x) * stride_];
    const std::uint32_t now = h_[t].get(t);
    if (v.write_clock != 0 && v.write_thread != t && v.write_clock > knows(t, v.write_thread)) {
      report(x, Access{v.write_thread, v.write_clock, v.write_location, true}, t, e.location, write);
    }
    if (write) {
      // Every thread's read since the last write, in thread order.
      auto check = [&](std::uint32_t u) {
        const ReadEntry& r = reads[u];
        if (u != t && r.clock > knows(t, u)) report(x, Access{u, r.clock, r.location, false}, t, e.location, true);
      };
      for (std::uint64_t m = v.readers; m != 0; m &= m - 1) check(static_cast<std::uint32_t>(__builtin_ctzll(m)));
      if (v.high_readers) {
        for (std::uint32_t u = 64; u < stride_; ++u) {
          if (reads[u].clock == 0) continue;
          check(u);
          reads[u] = ReadEntry{};
        }
      }
      v.write_thread = t;
      v.write_clock = now;
      v.write_location = e.location;
      v.readers = 0;  // the entries themselves are stale now, and never read again before a new read
      v.high_readers = false;
      if (a_ == RaceAnalysis::kShb) {
        last_write_clock_[x] = h_[t];
        h_[t].tick(t);  // later events of t must not look ordered by a read of this write
      }
    } else {
      reads[t] = ReadEntry{now, e.location};
      if (t < 64) {
        v.readers |= std::uint64_t(1) << t;
      } else {
        v.high_readers = true;
      }
      if (a_ == RaceAnalysis::kShb && v.write_clock != 0) h_[t].join(last_write_clock_[x]);  // read-from
    }
  }

  void report(std::uint32_t x, const Access& first, std::uint32_t t, std::uint32_t loc, bool write) {
    ++races[PairKey{x, first.location, loc, first.thread, t, first.write, write}];
  }

  RaceAnalysis a_;
  std::vector<VectorClock> h_, p_;
  std::vector<VariableState> vars_;
  std::vector<ReadEntry> reads_;  // variable x's reads at [x * stride_, (x + 1) * stride_): threads x variables x 8 bytes
  std::size_t stride_ = 16;       // a power of two > every thread id seen
  // wcp rule (a): (variable, lock) -> the latest releases of the lock that read and wrote the
  // variable, for locks past the dense budget (LockState::by_variable holds the others). The
  // snapshots are read only for a release the thread has not joined yet.
  FlatMap<std::uint64_t, LockedAccesses, LockedKeyHash> locked_;
  std::size_t dense_budget_;                                      // see kWcpDensePairs
  std::size_t dense_pairs_ = 0;                                   // entries of all by_variable tables
  std::vector<ReleaseSnapshot> snapshots_;
  std::vector<std::uint32_t> free_snapshots_;
  std::vector<std::vector<std::uint32_t>> joined_;  // per thread, per lock: the latest release number joined into P
  std::vector<LockState> locks_;
  std::vector<std::vector<OpenSection>> open_;
  std::vector<std::vector<std::uint32_t>> spare_lists_;  // see spare_list()
  std::vector<VectorClock> last_write_clock_;  // shb
  VectorClock scratch_;
};


}  // namespace

Location std_location(const StdTrace& t, std::uint32_t loc, const std::string& trace_name) {
  Location l;
  const std::string& s = t.locations[loc];
  // A line number: digits only, and small enough for `unsigned` (longer digit runs are names).
  auto line_of = [](std::string_view v, unsigned* line) {
    if (v.empty() || !std::all_of(v.begin(), v.end(), ::isdigit)) return false;
    auto r = std::from_chars(v.data(), v.data() + v.size(), *line);
    return r.ec == std::errc() && r.ptr == v.data() + v.size();
  };
  auto colon = s.rfind(':');
  if (line_of(s, &l.line)) {
    l.file = trace_name;
  } else if (colon != std::string::npos && line_of(std::string_view(s).substr(colon + 1), &l.line)) {
    l.file = s.substr(0, colon);
  } else {
    l.line = 0;
    l.file = s.empty() ? trace_name : s;
  }
  return l;
}

bool parse_race_analysis(std::string_view name, RaceAnalysis* out) {
  if (name == "hb") return *out = RaceAnalysis::kHb, true;
  if (name == "shb") return *out = RaceAnalysis::kShb, true;
  if (name == "wcp") return *out = RaceAnalysis::kWcp, true;
  if (name == "syncp") return *out = RaceAnalysis::kSyncp, true;
  if (name == "lockset") return *out = RaceAnalysis::kLockset, true;
  return false;
}

std::string_view race_analysis_name(RaceAnalysis a) {
  switch (a) {
    case RaceAnalysis::kHb: return "hb";
    case RaceAnalysis::kShb: return "shb";
    case RaceAnalysis::kWcp: return "wcp";
    case RaceAnalysis::kSyncp: return "syncp";
    case RaceAnalysis::kLockset: return "lockset";
  }
  return "?";
}

struct RacePredictor::Impl {
  Impl(RaceAnalysis a, std::size_t wcp_dense_pairs, std::uint32_t syncp_release_every)
      : analysis(a), p(a, wcp_dense_pairs), syncp(syncp_release_every) {}
  RaceAnalysis analysis;
  Predictor p;                       // hb, shb, wcp
  predictive::SyncpPredictor syncp;  // syncp
  predictive::LocksetPredictor lockset;  // lockset
  std::uint64_t events = 0;
  const predictive::RacePairs& races() const {
    if (analysis == RaceAnalysis::kSyncp) return syncp.races;
    if (analysis == RaceAnalysis::kLockset) return lockset.races;
    return p.races;
  }
};

RacePredictor::RacePredictor(RaceAnalysis a, std::size_t wcp_dense_pairs, std::uint32_t syncp_release_every)
    : impl_(std::make_unique<Impl>(a, wcp_dense_pairs, syncp_release_every)) {}
RacePredictor::~RacePredictor() {
  if (analysis_state_left_to_process_exit()) (void)impl_.release();  // see analysis.hpp
}

void RacePredictor::on_event(const StdEvent& e) { on_events(&e, 1); }

void RacePredictor::on_events(const StdEvent* events, std::size_t count) {
  Impl& s = *impl_;
  s.events += count;
  if (s.analysis == RaceAnalysis::kSyncp) {
    s.syncp.on_events(events, count);
  } else if (s.analysis == RaceAnalysis::kLockset) {
    for (std::size_t i = 0; i < count; ++i) s.lockset.on_event(events[i]);
  } else {
    constexpr std::size_t kAhead = 32;  // events: far enough for a DRAM load, near enough to still hold
    for (std::size_t i = 0; i < count; ++i) {
      if (i + kAhead < count) s.p.prefetch(events[i + kAhead]);
      s.p.on_event(events[i]);
    }
  }
}

AnalysisResult predict_races(const StdTrace& trace, RaceAnalysis analysis, const std::string& trace_name) {
  RacePredictor p(analysis);
  for (const StdEvent& e : trace.events) p.on_event(e);
  return p.finish(trace, trace_name);
}

AnalysisResult RacePredictor::finish(const StdTrace& trace, const std::string& trace_name) {
  const RaceAnalysis analysis = impl_->analysis;
  AnalysisResult result;
  result.events = impl_->events;
  for (const auto& [k, count] : impl_->races()) {
    Finding f;
    f.kind = std::string(kDataRace);
    f.severity = Severity::kError;
    const std::string& var = trace.variables[k.variable];
    f.objects = {var};
    f.threads = {trace.threads[k.first_thread], trace.threads[k.second_thread]};
    if (f.threads[0] == f.threads[1]) f.threads.pop_back();
    Location a = std_location(trace, k.first_loc, trace_name), b = std_location(trace, k.second_loc, trace_name);
    a.role = k.first_write ? "write" : "read";
    b.role = k.second_write ? "write" : "read";
    a.thread = trace.threads[k.first_thread];
    b.thread = trace.threads[k.second_thread];
    f.locations = {a, b};
    f.count = count;
    f.message = "data race on " + var + ": " + a.role + " by " + a.thread + " and " + b.role + " by " + b.thread +
                " are not ordered by " + std::string(race_analysis_name(analysis)) +
                (analysis == RaceAnalysis::kHb ? "" : " (a reordering of this trace runs them back to back)");
    f.advice = "Protect " + var + " with one lock on every access, or make it atomic.";
    if (analysis == RaceAnalysis::kLockset) {
      f.kind = std::string(kUnprotectedWrite);
      f.severity = Severity::kWarning;
      f.locations[0].role = "write by " + a.thread;
      f.locations[1].role = "write by " + b.thread;
      f.message = var + " is written by several threads with no lock common to all its accesses";
      f.advice = "Pick one lock that guards " + var + " and hold it on every access (or make it std::atomic).";
    }
    assign_fingerprint(f);
    result.findings.push_back(std::move(f));
  }
  if (analysis == RaceAnalysis::kSyncp) {
    if (const std::uint32_t late = impl_->syncp.threads_started_without_their_history(); late != 0) {
      result.problems.push_back(
          {trace_name, 0,
           "syncp: " + std::to_string(late) +
               " thread(s) first appear without a fork (or forked by a thread whose closure took another "
               "thread whole) after syncp had let go of history every thread known then was past; races "
               "between them and that history are not reported (give each thread a fork(T) line, or use "
               "--races wcp)"});
    }
  }
  return result;
}

}  // namespace lockgraph::analysis
