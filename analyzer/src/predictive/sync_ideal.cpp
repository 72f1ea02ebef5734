// Sync-preserving closure (see sync_ideal.hpp for the rules and the papers).
#include "sync_ideal.hpp"

#include <algorithm>

namespace lockgraph::analysis::predictive {

void SyncHistory::ensure_thread(std::uint32_t t) {
  if (threads_ <= t) {
    rules_.resize(t + 1);
    length_.resize(t + 1, 0);
    required_.resize(t + 1);
    threads_ = t + 1;
  }
}

// On generated traces (16 threads, 4,096 variables) four in five reads of another thread's write
// read an older write than one the thread had read from that writer before: the rules drop by
// half (acquires stay), and so do the closure steps every thread's ideal spends on them.
void SyncHistory::require(std::uint32_t thread, std::uint32_t other, std::uint32_t length, std::uint32_t index) {
  std::vector<std::uint32_t>& seen = required_[thread];
  if (seen.size() <= other) seen.resize(std::size_t(other) + 1, 0);
  if (length <= seen[other]) return;
  seen[other] = length;
  rules_[thread].items.push_back(ClosureRule{index, other, length, 0});
}

// Re-entries are not critical sections of their own: the outermost acquire and release are.
bool SyncHistory::acquire(std::uint32_t thread, std::uint32_t lock, std::uint32_t index) {
  lock_count_ = std::max(lock_count_, lock + 1);
  if (!open_.acquire(thread, lock, rules_[thread].end())) return false;
  rules_[thread].items.push_back(ClosureRule{index, lock, kUnbounded, position_});
  return true;
}

bool SyncHistory::release(std::uint32_t thread, std::uint32_t lock, std::uint32_t index) {
  ensure_thread(thread);
  const auto ended = open_.release(thread, lock);
  if (ended) rules_[thread].at(static_cast<std::uint32_t>(ended->info)).value = index;
  return ended.has_value();
}

void SyncHistory::fork(std::uint32_t parent, std::uint32_t child, std::uint32_t index) {
  ensure_thread(child);
  if (length_[child] != 0) return;  // already running: the fork orders nothing it can still use
  if (forked_by_.size() <= child) forked_by_.resize(child + 1);
  if (forked_by_[child].index == 0) {
    forked_by_[child] = Fork{parent, index};
    require(child, parent, index, 1);  // any ideal with the child's first event
  }
}

void SyncHistory::join(std::uint32_t thread, std::uint32_t child, std::uint32_t index) {
  ensure_thread(child);
  if (length_[child] > 0) require(thread, child, length_[child], index);
}

void SyncHistory::forget_rules_before(std::uint32_t thread, std::uint32_t position) {
  RuleList& r = rules_[thread];
  r.drop_before(position);
  // The storage follows what is kept: a list that held millions of rules must not keep their room.
  if (r.items.capacity() > 2 * r.items.size() + 1024) r.items.shrink_to_fit();
}

void SyncIdeal::ensure(std::uint32_t threads, std::uint32_t locks) {
  if (size_ < threads) {
    frontier_.resize(threads, 0), cursor_.resize(threads, 0), is_pending_.resize(threads, 0);
    size_ = threads;
  }
  if (locks_ < locks) last_.resize(locks), locks_ = locks;
}

void SyncIdeal::set_frontier(std::uint32_t t, std::uint32_t v) {
  if (marked_) undo_.push_back(Undo{Slot::kFrontier, t, LastAcquire{frontier_[t], 0, 0}});
  grow(t, v);
  if (v == kUnbounded) unbounded_.push_back(t);
}

void SyncIdeal::raise_slow(std::uint32_t thread, std::uint32_t length) {
  if (thread >= size_) ensure(thread + 1, 0);
  if (length > frontier_[thread]) set_frontier(thread, length);
}

void SyncIdeal::enable_first(const SyncHistory& h, std::uint32_t thread) {
  if (const SyncHistory::Fork f = h.forked_by(thread); f.index != 0) raise(f.parent, f.index);
}

void SyncIdeal::close_pending(const SyncHistory& h) {
  // The latest acquire of a lock is kept by (thread, rule): its release may be recorded after this
  // ideal first saw it open.
  auto release_of = [&](const LastAcquire& a) { return h.rules(a.thread)[a.rule].value; };  // a.rule: a position
  // A thread taken in whole (an open critical section had to end) gets new rules as the trace
  // goes on without its frontier growing: they apply whenever the closure changes.
  for (std::uint32_t t : unbounded_) {
    if (frontier_[t] == kUnbounded && t < h.threads() && cursor_[t] < h.rules(t).end() && !is_pending_[t]) {
      is_pending_[t] = 1, pending_.push_back(t);
    }
  }
  while (!pending_.empty()) {
    const std::uint32_t t = pending_.back();
    pending_.pop_back();
    is_pending_[t] = 0;
    if (t >= h.threads()) continue;  // raised past the history's threads: no rules to apply
    // The history does not change while the ideal closes: its list is read through locals (the
    // compiler cannot know that raise() leaves it alone and reloaded it at every step).
    const RuleList& list = h.rules(t);
    const ClosureRule* const rules = list.items.data() - list.base;  // indexed by position
    const std::uint32_t end = list.end();
    std::uint32_t c = cursor_[t];
    const std::uint32_t start = c;
    // frontier_[t] is read again at every step: a rule of t can raise t itself.
    while (c < end && rules[c].index <= frontier_[t]) {
      const ClosureRule& r = rules[c];
      if (r.position == 0) {
        raise(r.other, r.value);
      } else {
        const LastAcquire last = last_[r.other];
        if (last.position == 0 || r.position > last.position) {
          if (last.position != 0 && last.thread != t) raise(last.thread, release_of(last));
          set_last(r.other, LastAcquire{r.position, t, c});
        } else if (last.thread != t) {
          raise(t, r.value);  // an earlier critical section than the ideal's latest: it must end
        }
      }
      ++c;
    }
    if (c != start) set_cursor(t, c), work_ += c - start;
  }
}

void SyncIdeal::lower_to_rules_in_use(std::vector<std::uint32_t>& lowest) const {
  for (const LastAcquire& a : last_) {
    if (a.position != 0 && a.thread < lowest.size()) lowest[a.thread] = std::min(lowest[a.thread], a.rule);
  }
}

void SyncIdeal::rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    switch (it->slot) {
      case Slot::kFrontier: frontier_[it->at] = it->old.position; break;
      case Slot::kCursor: cursor_[it->at] = it->old.position; break;
      case Slot::kLast: last_[it->at] = it->old; break;
    }
  }
  undo_.clear();
  marked_ = false;
  drop_pending();
}

void SyncIdeal::clear() {
  std::fill(frontier_.begin(), frontier_.end(), 0);
  std::fill(cursor_.begin(), cursor_.end(), 0);
  std::fill(last_.begin(), last_.end(), LastAcquire{});
  undo_.clear();
  marked_ = false;
  drop_pending();
}

void SyncIdeal::drop_pending() {
  std::erase_if(unbounded_, [&](std::uint32_t t) { return frontier_[t] != kUnbounded; });
  for (std::uint32_t t : pending_) is_pending_[t] = 0;
  pending_.clear();
}

}  // namespace lockgraph::analysis::predictive
