// Candidate and CandidateList: syncp's record of one access that may still race, and one thread's
// list of them for one variable. Internal to predictive/ (syncp.cpp; tests).
// Contract: positions below base() were dropped (only candidates at or before the `passed` bound
// given to push(), and only when the list was full); a reference from operator[] is valid until
// the next push().
// Cost: push() is O(1) amortized (a full list is trimmed from its end, then grown twofold).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lockgraph::analysis::predictive {

// 12 bytes: a list with one candidate keeps it in its own record (CandidateList).
struct Candidate {
  static constexpr std::uint32_t kWrite = 0x80000000u;
  std::uint32_t index = 0;               // on its thread
  std::uint32_t location_and_write = 0;  // the location's id, kWrite set for a write (ids index
                                         // StdTrace::locations, a vector of strings: below 2^31)
  std::uint32_t held = 0;  // 0: no lock held; else the position of its locks in the thread's
                           // HeldPool (their count in the header entry just before)
  std::uint32_t location() const { return location_and_write & ~kWrite; }
  bool write() const { return (location_and_write & kWrite) != 0; }
};
static_assert(sizeof(Candidate) == 12);

// One thread's accesses to one variable, in trace order, by position (an absolute index:
// candidates every thread's closure has passed are dropped from the front without moving the
// cursors that point into the list). A list of at most one candidate keeps it in place, in this
// record, which sits in the variable's row that the access loads anyway; longer ones live in a
// heap block. Most appends find the list's earlier candidates passed (on the benchmark trace, two
// in three find none alive and one in fourteen one), so they write into the line already loaded
// instead of missing the cache at a heap block's tail (syncp ran 30% faster with no appends at
// all, an experiment that also left nothing to check).
// Cost: 32 bytes, plus the block of a list that once held more than one (kept for reuse).
class CandidateList {
 public:
  CandidateList() = default;
  CandidateList(CandidateList&& o) noexcept { take(o); }
  CandidateList& operator=(CandidateList&& o) noexcept {
    if (this != &o) {
      std::free(heap_);
      take(o);
    }
    return *this;
  }
  CandidateList(const CandidateList&) = delete;
  CandidateList& operator=(const CandidateList&) = delete;
  ~CandidateList() { std::free(heap_); }

  std::uint32_t base() const { return base_; }
  std::uint32_t size() const { return size_; }
  std::uint32_t end() const { return base_ + size_; }
  const Candidate* data() const { return size_ <= 1 ? &one_ : heap_; }
  const Candidate& operator[](std::uint32_t position) const { return data()[position - base_]; }
  // Where the next append may write, for a prefetch (nullptr: in this record).
  const Candidate* next_slot() const { return size_ == 0 || heap_ == nullptr ? nullptr : heap_ + size_; }

  // Appends c. When the list is full, the candidates at or before `passed` (inside every closure
  // there is) are dropped first; returns whether any were.
  [[gnu::always_inline]] bool push(const Candidate& c, std::uint32_t passed) {
    if (size_ == 0) {
      one_ = c, size_ = 1;
      return false;
    }
    bool dropped = false;
    if (size_ == 1 || size_ == capacity_) dropped = make_room(passed);
    if (size_ == 0) {
      one_ = c, size_ = 1;
    } else {
      heap_[size_++] = c;
    }
    return dropped;
  }

 private:
  void take(CandidateList& o) {
    heap_ = o.heap_, base_ = o.base_, size_ = o.size_, capacity_ = o.capacity_, one_ = o.one_;
    o.heap_ = nullptr, o.size_ = 0, o.capacity_ = 0;
  }
  // A full list (one candidate in place, or a full block): its passed candidates are dropped
  // (scanning back from its end: almost all of a full list is usually passed, and a binary
  // search's probes were a cache miss each); what is left has room for one more after.
  [[gnu::noinline]] bool make_room(std::uint32_t passed) {
    Candidate* items = size_ == 1 ? &one_ : heap_;
    std::uint32_t keep = size_;
    while (keep > 0 && items[keep - 1].index > passed) --keep;
    const std::uint32_t drop = keep, kept = size_ - keep;
    if (drop != 0) {
      if (kept == 1) {
        one_ = items[size_ - 1];
      } else if (kept > 1) {
        std::memmove(heap_, heap_ + drop, kept * sizeof(Candidate));
      }
      base_ += drop, size_ = kept;
    }
    if (size_ == 1) {  // the next append leaves the record: its candidate moves to the block
      reserve(2);
      heap_[0] = one_;
    } else if (size_ > 1 && size_ == capacity_) {
      reserve(2 * capacity_);
    }
    return drop != 0;
  }
  void reserve(std::uint32_t n) {
    if (n <= capacity_) return;
    // A block starts at 8: lists hold a few between trims, and starting there saves each the
    // growth through 2 and 4.
    n = std::max<std::uint32_t>(n, 8);
    void* grown = std::realloc(heap_, std::size_t(n) * sizeof(Candidate));
    if (grown == nullptr) throw std::bad_alloc();
    heap_ = static_cast<Candidate*>(grown), capacity_ = n;
  }

  Candidate* heap_ = nullptr;  // positions [base_, end()) when size_ > 1
  std::uint32_t base_ = 0, size_ = 0, capacity_ = 0;
  Candidate one_;  // the candidate when size_ == 1
};
static_assert(sizeof(CandidateList) == 32);

}  // namespace lockgraph::analysis::predictive
