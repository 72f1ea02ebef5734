// Internal: HeldLocks<Info> — per thread, the locks held now: one entry per critical section
// (re-entries are counted, not listed), carrying what its user keeps of the outermost acquisition
// (Info: a closure-rule index, a location, nothing). Shared by the sync-preserving history, the
// deadlock predictor and the STD lockset view.
//
// Contract: threads are dense ids, grown on first use. acquire() says whether it opened a
// critical section; release() returns the section it closed, if any (a release of a lock not
// held, or of a re-entry, closes none). Entries are in acquisition order.
// Cost: O(locks held) per operation; no allocation once a thread's nesting depth was reached.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace lockgraph::analysis::predictive {

template <class Info>
class HeldLocks {
 public:
  struct Entry {
    std::uint32_t lock = 0;
    std::uint32_t depth = 1;
    Info info{};
  };

  bool holds(std::uint32_t thread, std::uint32_t lock) {
    for (const Entry& e : at(thread)) {
      if (e.lock == lock) return true;
    }
    return false;
  }

  bool acquire(std::uint32_t thread, std::uint32_t lock, const Info& info) {
    auto& held = at(thread);
    for (Entry& e : held) {
      if (e.lock == lock) return ++e.depth, false;
    }
    held.push_back(Entry{lock, 1, info});
    return true;
  }

  std::optional<Entry> release(std::uint32_t thread, std::uint32_t lock) {
    auto& held = at(thread);
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      if (it->lock != lock) continue;
      if (--it->depth != 0) return std::nullopt;
      Entry ended = *it;
      held.erase(std::next(it).base());
      return ended;
    }
    return std::nullopt;
  }

  const std::vector<Entry>& of(std::uint32_t thread) { return at(thread); }

 private:
  std::vector<Entry>& at(std::uint32_t thread) {
    if (held_.size() <= thread) held_.resize(thread + 1);
    return held_[thread];
  }
  std::vector<std::vector<Entry>> held_;
};

}  // namespace lockgraph::analysis::predictive
