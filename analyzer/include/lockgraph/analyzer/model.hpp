// Model — the analyzer's picture of the program at the current point of the replay: threads with
// their vector clocks and held locks, synchronization objects with their release clocks, names.
// Every detector reads it; only Model::apply() changes it.
//
// Two clocks per thread: `vc` is full happens-before (every source in DESIGN.md, locks
// included), used for races; `hard` leaves out lock release->acquire edges, used to decide whether
// two lock-order edges can be concurrent (the order a lock imposes in one run is exactly the
// accident a deadlock detector must see through).
// Cost: memory O(threads x (threads + sync objects)) for clocks; apply() is O(threads) on
// synchronization events and O(1) otherwise.
#pragma once

#include <cstdint>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lockgraph/analyzer/event.hpp"
#include "lockgraph/analyzer/finding.hpp"
#include "lockgraph/analyzer/flat_map.hpp"
#include "lockgraph/analyzer/timeline.hpp"
#include "lockgraph/analyzer/trace_set.hpp"
#include "lockgraph/analyzer/vector_clock.hpp"

namespace lockgraph::analysis {

struct ObjectKey {
  std::uint32_t process = 0;
  std::uint64_t id = 0;
  bool operator==(const ObjectKey&) const = default;
  bool operator<(const ObjectKey& o) const { return process != o.process ? process < o.process : id < o.id; }
};
struct ObjectKeyHash {
  std::size_t operator()(const ObjectKey& k) const noexcept {
    std::uint64_t h = k.id * 0x9E3779B97F4A7C15ull ^ (std::uint64_t(k.process) << 32);
    return std::size_t(h ^ (h >> 31));
  }
};

struct HeldLock {
  static constexpr std::uint32_t kSetUnknown = 0xffffffffu;
  std::uint32_t lock = 0;  // index into Model::locks()
  std::uint32_t site = 0;
  bool shared = false;
  std::uint32_t depth = 1;  // recursion
  std::uint64_t acquired_time = 0;
  // The thread's held-set id before this acquisition, while releasing this entry gives it back
  // (every entry after it was released, none before it); kSetUnknown once an earlier one was.
  std::uint32_t set_before = kSetUnknown;
};

struct ThreadState {
  std::uint32_t process = 0;
  std::uint32_t tid = 0;
  std::string label;            // "thread 2" or "thread 2 of pid 123"
  VectorClock vc;
  VectorClock hard;
  std::vector<HeldLock> held;
  std::uint64_t held_version = 0;  // bumped whenever `held` changes: detectors cache per version
  std::uint32_t held_set = 0;  // `held` as an interned set (Model::held_set): kept by the Model
  bool started = false;
  bool ended = false;
  bool joined = false;
  bool detached = false;
  std::optional<std::uint32_t> pending_lock;  // a blocking request not yet granted
  std::uint32_t pending_site = 0;
  std::uint64_t pending_since = 0;
  std::uint64_t blocked_ns = 0;  // total time waiting for locks
  std::uint64_t first_ns = 0;    // first and last timestamped event of the thread
  std::uint64_t last_ns = 0;
};

struct LockInfo {
  ObjectKey key;
  std::uint8_t type = 1;
  std::string name;           // display name
  bool named = false;         // name given by the program (vs made up from the site)
  std::uint32_t create_site = 0;
  bool destroyed = false;
  VectorClock release_vc;     // writers' releases
  VectorClock read_release_vc;
  std::vector<std::uint32_t> holders;  // thread indices
  // contention
  std::uint64_t acquisitions = 0;
  std::uint64_t contended = 0;
  std::uint64_t wait_total_ns = 0;
  std::uint64_t wait_max_ns = 0;
  std::uint64_t hold_total_ns = 0;
  std::uint64_t hold_max_ns = 0;
  std::uint64_t holds_timed = 0;
};

class Model {
 public:
  explicit Model(const TraceSet& set);

  // Resolves e's thread once, and for a lock's acquisition, release, blocking request or
  // destruction its lock; detectors then ask current_thread() / current_lock() instead of hashing
  // again. Other lock events (a creation, which may retire a reused id first; a try request) are
  // resolved where they are handled.
  void begin(const Event& e) {
    current_ = thread_index(e.process, e.thread);
    if (resolves_lock(e)) current_lock_ = lock_index(e.process, e.object);
  }
  std::uint32_t current_thread() const noexcept { return current_; }
  // The lock of the event begin() saw; only for the events resolves_lock() names.
  std::uint32_t current_lock() const noexcept { return current_lock_; }
  static bool resolves_lock(const Event& e) noexcept {
    return e.kind == Kind::kLockAcquired || e.kind == Kind::kLockRelease || e.kind == Kind::kLockDestroy ||
           (e.kind == Kind::kLockRequest && !(e.flags & (format::kAcqTry | format::kAcqTimed)));
  }
  // After begin(e), which resolved its thread and lock. Inline for the third of a trace's events
  // that change nothing here: untimed plain accesses (the detectors keep their shadows).
  void apply(const Event& e) {
    if (is_plain_access(e.kind) && e.time == 0) return;
    apply_event(e);
  }

  const TraceSet& set() const noexcept { return set_; }
  // A direct-mapped cache in front of the hash map, inline: every event looks its thread up, and
  // a trace's threads interleave (one "last thread" hit one event in four on the benchmark).
  std::uint32_t thread_index(std::uint32_t process, std::uint32_t tid) {
    ThreadCacheEntry& c = thread_cache_[(tid ^ process * 0x9E37u) & (kThreadCacheSize - 1)];
    if (c.process == process && c.tid == tid) return c.index;
    return thread_index_slow(process, tid, c);
  }
  // Through a table of pointers: indexing the deque itself divides, and detectors ask several
  // times per event.
  ThreadState& thread(std::uint32_t index) { return *thread_at_[index]; }
  const ThreadState& thread(std::uint32_t index) const { return *thread_at_[index]; }
  // A deque: references to threads stay valid when new threads appear mid-replay.
  const std::deque<ThreadState>& threads() const noexcept { return threads_; }
  // Creates an unnamed entry if unknown. A direct-mapped cache in front of the hash map, inline
  // (every lock event looks its lock up; the call was ~33 instructions a time, the hit is ~10).
  std::uint32_t lock_index(std::uint32_t process, std::uint64_t id) {
    LockCacheEntry& c = lock_cache_[(id ^ (id >> 17) ^ process) & (kLockCacheSize - 1)];
    if (c.valid && c.key.id == id && c.key.process == object_scope(process, id)) return c.index;
    return lock_index_slow(process, id, c);
  }
  LockInfo& lock(std::uint32_t index) { return locks_[index]; }
  const std::vector<LockInfo>& locks() const noexcept { return locks_; }
  bool is_lock(std::uint32_t process, std::uint64_t id) const;

  Location location(std::uint32_t process, std::uint32_t site, std::string role, std::uint32_t thread) const;
  std::vector<std::string> held_names(std::uint32_t thread) const;
  // The set of locks `thread` holds now (lock indices, sorted, each once) as an interned id (0:
  // none), and the set of an id. The Model keeps the id up to date as locks come and go, through
  // a cache of transitions (set, lock, acquired or released) -> set: one hash probe per
  // acquisition or release, an allocation only for a set never seen before.
  std::uint32_t held_set_id(std::uint32_t thread) const { return thread_at_[thread]->held_set; }
  const std::vector<std::uint32_t>& held_set(std::uint32_t id) const { return held_sets_[id]; }
  std::string variable_name(std::uint32_t process, std::uint64_t address) const;  // "" when unknown
  std::string variable_label(std::uint32_t process, std::uint64_t address) const;  // name, or the address in hex
  // Changes whenever the program names a variable: labels cached by address are stale then.
  std::uint64_t variable_names_version() const noexcept { return variable_names_version_; }
  // Display name of any synchronization object (lock, semaphore, event, condition, pool).
  std::string object_name(std::uint32_t process, std::uint64_t id) const;
  std::string process_label(std::uint32_t process) const;
  bool multi_process() const noexcept { return set_.processes().size() > 1; }
  std::uint64_t run_ns(std::uint32_t process) const;
  std::uint64_t end_ns(std::uint32_t process) const;  // last timestamp (trailer or event)
  // Timed holds and waits; TimelineSpan::thread / lock are Model thread and lock indices here.
  const std::vector<TimelineSpan>& spans() const noexcept { return spans_; }
  std::uint64_t spans_dropped() const noexcept { return spans_dropped_; }

 private:
  struct SyncClock {
    VectorClock vc;
    VectorClock hard;
  };
  // `t` is the current event's thread (current_).
  void release_to(SyncClock& s, ThreadState& t);
  void acquire_from(const SyncClock& s, ThreadState& t);
  void on_lock_acquired(const Event& e, std::uint32_t ti);
  void on_lock_release(const Event& e, std::uint32_t ti);
  std::uint32_t intern_held_set(const std::vector<std::uint32_t>& sorted);
  // The held set `from` with lock `lock` added or removed.
  std::uint32_t held_set_after(std::uint32_t from, std::uint32_t lock, bool added);
  void apply_event(const Event& e);
  void add_span(std::uint32_t thread, std::uint32_t lock, std::uint64_t begin, std::uint64_t end, bool wait);

  const TraceSet& set_;
  std::uint32_t current_ = 0;
  std::uint32_t current_lock_ = 0;
  std::deque<ThreadState> threads_;
  std::vector<ThreadState*> thread_at_;  // &threads_[i]: deque elements stay where they are
  std::unordered_map<ObjectKey, std::uint32_t, ObjectKeyHash> thread_ids_;  // (process, tid)
  struct ThreadCacheEntry {
    std::uint32_t process = ~0u;  // ~0u: empty (no process has that index)
    std::uint32_t tid = 0;
    std::uint32_t index = 0;
  };
  static constexpr std::size_t kThreadCacheSize = 64;
  std::array<ThreadCacheEntry, kThreadCacheSize> thread_cache_{};
  std::uint32_t thread_index_slow(std::uint32_t process, std::uint32_t tid, ThreadCacheEntry& cache);
  std::vector<LockInfo> locks_;
  std::vector<std::vector<std::uint32_t>> held_sets_;  // interned held sets
  struct WordHash {
    std::size_t operator()(std::uint64_t k) const noexcept {
      k *= 0x9E3779B97F4A7C15ull;
      return std::size_t(k ^ (k >> 32));
    }
  };
  // Hash of a held set -> its id + 1; sets whose hashes collide are chained through
  // held_set_next_ (id -> the next id with that hash, + 1; 0 ends the chain).
  FlatMap<std::uint64_t, std::uint32_t, WordHash> held_set_ids_;
  std::vector<std::uint32_t> held_set_next_;
  FlatMap<std::uint64_t, std::uint32_t, WordHash> held_set_moves_;  // (set, lock, added) -> set + 1
  std::vector<std::uint32_t> held_scratch_;
  struct LockCacheEntry {
    ObjectKey key;
    std::uint32_t index = 0;
    bool valid = false;
  };
  std::uint32_t lock_index_slow(std::uint32_t process, std::uint64_t id, LockCacheEntry& c);
  static constexpr std::size_t kLockCacheSize = 256;
  std::array<LockCacheEntry, kLockCacheSize> lock_cache_{};
  std::unordered_map<ObjectKey, std::uint32_t, ObjectKeyHash> lock_ids_;
  std::unordered_map<std::string, std::uint32_t> creations_per_name_;  // unnamed locks per "process name"
  std::unordered_map<ObjectKey, SyncClock, ObjectKeyHash> sync_;            // semaphores, events, annotations
  std::map<std::tuple<std::uint32_t, int, std::uint64_t, std::uint64_t>, SyncClock> handoffs_;  // create, end, task, fork
  std::map<std::uint32_t, std::map<std::uint64_t, std::pair<std::uint64_t, std::string>>> variables_;  // addr -> size, name
  std::uint64_t variable_names_version_ = 0;
  std::vector<std::uint64_t> first_ns_, last_ns_;
  std::vector<TimelineSpan> spans_;
  std::uint64_t spans_dropped_ = 0;
  std::unordered_map<ObjectKey, std::string, ObjectKeyHash> object_names_;  // non-lock objects
};

}  // namespace lockgraph::analysis
