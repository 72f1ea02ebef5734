// Sync-preserving ideals: the smallest prefix of a trace that has to run before some events can be
// enabled, when every pair of critical sections on one lock keeps the trace's order.
//
// From Mathur, Pavlogiannis, Viswanathan, "Optimal Prediction of Synchronization-Preserving
// Races", POPL 2021 (and Tunç, Mathur, Pavlogiannis, Viswanathan, "Sound Dynamic Deadlock
// Prediction in Linear Time", PLDI 2023, for deadlocks): a set of events closed under
//   (1) thread order, (2) reads-from (a read's write; fork before the child, the child's end
//   before the join), and (3) if two acquires of one lock are in the set, the earlier one's
//   release is too,
// run in trace order, is a correct reordering of the trace. Events e1..ek whose thread
// predecessors are in the closure and which are not in it themselves are all enabled at once:
// a race (k = 2, conflicting accesses) or a deadlock (k acquires in a cycle).
//
// SyncHistory records, per thread, only the events that pull others in (reads of another thread's
// write, fork/join, outermost acquires with their release); SyncIdeal is a closure in progress,
// a prefix length per thread, grown monotonically by raise() + close(). mark()/rollback() undo a
// trial extension in time proportional to what it changed. A requirement a thread's earlier rule
// already implies (it read from u up to v' >= v before) is not recorded: every ideal with the
// later event has the earlier one.
// Cost: 16 bytes per recorded event and 4 bytes per pair of threads; close() is linear in the
// events it newly includes (it visits only the threads whose prefix grew).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "held_locks.hpp"
#include "positioned_list.hpp"

namespace lockgraph::analysis::predictive {

inline constexpr std::uint32_t kUnbounded = std::numeric_limits<std::uint32_t>::max();

struct ClosureRule {
  std::uint32_t index = 0;     // 1-based position of the event on its thread
  std::uint32_t other = 0;     // require: thread; acquire: lock
  std::uint32_t value = 0;     // require: that thread's prefix length; acquire: its release's index (kUnbounded: open)
  std::uint32_t position = 0;  // acquire: trace position (>= 1); 0 for require
};

// One thread's rules, in event order; rules every ideal in use has applied can be forgotten from
// the front (forget_rules_before) without moving the positions ideals hold.
using RuleList = PositionedList<ClosureRule>;

class SyncHistory {
 public:
  // Events in trace order. Returns the event's 1-based index on its thread.
  std::uint32_t next_event(std::uint32_t thread) {
    if (thread >= threads_) ensure_thread(thread);
    ++position_;
    return ++length_[thread];
  }
  // True when the acquisition opens a critical section / the release closes one (not re-entries).
  bool acquire(std::uint32_t thread, std::uint32_t lock, std::uint32_t index);
  bool release(std::uint32_t thread, std::uint32_t lock, std::uint32_t index);
  // Inline, like next_event(): one of them runs for every access.
  void read(std::uint32_t thread, std::uint32_t variable, std::uint32_t index) {
    if (variable >= last_write_.size()) return;
    const Writer w = last_write_[variable];
    if (w.index != 0 && w.thread != thread) require(thread, w.thread, w.index, index);
  }
  void write(std::uint32_t thread, std::uint32_t variable, std::uint32_t index) {
    if (variable >= last_write_.size()) last_write_.resize(variable + 1);
    last_write_[variable] = Writer{thread, index};
  }
  void fork(std::uint32_t parent, std::uint32_t child, std::uint32_t index);
  void join(std::uint32_t thread, std::uint32_t child, std::uint32_t index);

  std::uint32_t threads() const { return threads_; }
  std::uint32_t locks() const { return lock_count_; }
  std::uint32_t length(std::uint32_t thread) const { return thread < length_.size() ? length_[thread] : 0; }
  const RuleList& rules(std::uint32_t thread) const { return rules_[thread]; }
  // Forgets the thread's rules before `position`. The caller guarantees that no ideal it will
  // close again has a cursor or a latest acquire below it, and that no open critical section's
  // acquire is below it.
  void forget_rules_before(std::uint32_t thread, std::uint32_t position);
  // The critical sections the thread is in now; each entry's info is its acquire's rule position.
  const std::vector<HeldLocks<std::size_t>::Entry>& held(std::uint32_t thread) { return open_.of(thread); }
  std::uint32_t position() const { return position_; }
  struct Fork {
    std::uint32_t parent = 0, index = 0;  // index 0: not forked in the trace
  };
  Fork forked_by(std::uint32_t thread) const { return thread < forked_by_.size() ? forked_by_[thread] : Fork{}; }

 private:
  void ensure_thread(std::uint32_t t);
  // Records that event `index` of `thread` needs `other`'s first `length` events, unless an
  // earlier rule of the thread needs at least as many.
  void require(std::uint32_t thread, std::uint32_t other, std::uint32_t length, std::uint32_t index);
  struct Writer {
    std::uint32_t thread = 0, index = 0;  // index 0: never written
  };
  std::vector<RuleList> rules_;
  std::vector<std::uint32_t> length_;
  std::vector<std::vector<std::uint32_t>> required_;  // [thread][other]: the most a rule required
  HeldLocks<std::size_t> open_;          // per thread: locks held (outermost acquire's rule)
  std::vector<Writer> last_write_;       // per variable
  std::vector<Fork> forked_by_;          // per thread
  std::uint32_t threads_ = 0;            // rules_.size() and length_.size(), read on every event
  std::uint32_t lock_count_ = 0;
  std::uint32_t position_ = 0;
};

class SyncIdeal {
 public:
  // Grows the prefix of `thread` to at least `length` events (the closure is not updated until close()).
  [[gnu::always_inline]] void raise(std::uint32_t thread, std::uint32_t length) {
    if (thread < size_) {  // the usual cases, inline: nothing to do, or a plain growth
      if (length <= frontier_[thread]) return;
      if (!marked_ && length != kUnbounded) return grow(thread, length);  // nothing to undo or to track
    }
    raise_slow(thread, length);
  }
  // Makes the event `index` of `thread` enabled: its thread predecessors and the fork that started
  // the thread (a thread's first event needs it too; the closure then adds the rest).
  [[gnu::always_inline]] void enable(const SyncHistory& h, std::uint32_t thread, std::uint32_t index) {
    const std::uint32_t length = index - 1;
    if (thread < size_ && !marked_ && length != kUnbounded && unbounded_.empty() &&
        length > frontier_[thread] && !has_rule_within(h, thread, length)) {
      // The usual step of an access: its thread's prefix grows over events without rules (no
      // acquire, no read of another thread's write since its last access), so close() would
      // visit the thread for nothing. With a thread taken whole, every close() must run: that
      // thread's new rules apply whenever the closure is closed.
      frontier_[thread] = length;
      return;  // index > 1: a first event has its fork rule at index 1 (length 0 has no rules)
    }
    raise(thread, length);
    // Past its first event the thread's own fork rule (at index 1, see SyncHistory::fork) is in
    // the ideal, and close() applies it.
    if (index == 1) enable_first(h, thread);
  }
  // Applies the closure rules until nothing changes.
  void close(const SyncHistory& h) {
    if (size_ < h.threads() || locks_ < h.locks()) ensure(h.threads(), h.locks());
    if (!pending_.empty()) close_pending(h);
  }
  std::uint32_t frontier(std::uint32_t thread) const { return thread < size_ ? frontier_[thread] : 0; }
  // How many of the thread's rules this ideal has applied (an absolute rule position).
  std::uint32_t cursor(std::uint32_t thread) const { return thread < size_ ? cursor_[thread] : 0; }
  // Lowers lowest[t] to the rule position of every acquire this ideal keeps as a lock's latest
  // (close() reads those rules' releases again).
  void lower_to_rules_in_use(std::vector<std::uint32_t>& lowest) const;
  bool contains(std::uint32_t thread, std::uint32_t index) const { return index <= frontier(thread); }
  const std::vector<std::uint32_t>& frontiers() const { return frontier_; }
  // Rules applied by close() so far (not reset by clear()): the cost callers budget.
  std::uint64_t work() const { return work_; }

  // Trial extensions: everything changed after mark() is undone by rollback().
  void mark() { undo_.clear(), marked_ = true; }
  void rollback();
  void clear();

 private:
  struct LastAcquire {
    std::uint32_t position = 0, thread = 0, rule = 0;  // rule: its position in the thread's rules
  };
  enum class Slot : std::uint8_t { kFrontier, kCursor, kLast };
  struct Undo {
    Slot slot;
    std::uint32_t at;
    LastAcquire old;  // kFrontier/kCursor use old.position
  };
  void raise_slow(std::uint32_t thread, std::uint32_t length);
  void close_pending(const SyncHistory& h);
  void enable_first(const SyncHistory& h, std::uint32_t thread);
  // The frontier of t becomes v and close() is to visit t (set_frontier adds the undo and the
  // kUnbounded bookkeeping; raise() calls this directly when neither applies).
  void grow(std::uint32_t t, std::uint32_t v) {
    frontier_[t] = v;
    if (!is_pending_[t]) is_pending_[t] = 1, pending_.push_back(t);
  }
  void set_frontier(std::uint32_t t, std::uint32_t v);
  // Does the thread have a rule this ideal has not applied at or before event `length`?
  bool has_rule_within(const SyncHistory& h, std::uint32_t t, std::uint32_t length) const {
    if (t >= h.threads()) return false;
    const RuleList& rules = h.rules(t);
    const std::uint32_t c = cursor_[t];
    return c < rules.base || (c < rules.end() && rules[c].index <= length);
  }
  // Inline: close() calls them once per rule and per visit; the undo record only in a trial.
  void set_cursor(std::uint32_t t, std::uint32_t v) {
    if (marked_) undo_.push_back(Undo{Slot::kCursor, t, LastAcquire{cursor_[t], 0, 0}});
    cursor_[t] = v;
  }
  void set_last(std::uint32_t lock, LastAcquire v) {
    if (marked_) undo_.push_back(Undo{Slot::kLast, lock, last_[lock]});
    last_[lock] = v;
  }
  void ensure(std::uint32_t threads, std::uint32_t locks);
  void drop_pending();

  std::vector<std::uint32_t> frontier_, cursor_;  // cursor: rules of the thread already applied
  std::vector<LastAcquire> last_;                 // per lock: the latest acquire in the ideal
  // frontier_.size() (= cursor_'s, is_pending_'s) and last_.size(): the bounds checked on every
  // step, one load each instead of a vector's two and a subtraction.
  std::uint32_t size_ = 0, locks_ = 0;
  std::vector<Undo> undo_;
  // Threads whose frontier grew past their cursor since close() last ran: close() visits only
  // them (a trial extension usually moves one or two threads of many). Empty after close() and
  // rollback(); the closure is a least fixpoint, so the order of the visits does not matter.
  std::vector<std::uint32_t> pending_;
  std::vector<std::uint8_t> is_pending_;
  std::vector<std::uint32_t> unbounded_;  // threads whose frontier is kUnbounded (may repeat)
  bool marked_ = false;
  std::uint64_t work_ = 0;
};

}  // namespace lockgraph::analysis::predictive
