// Access and RaceShadow: what the data_race detector (races.cpp) remembers of one 8-byte granule —
// the last write to each of its bytes and the reads since. Internal to detectors/ (and tests).
// Contract: the accesses stay in the order they were added; erase_if() keeps the order of the
// rest. Pointers into the list are valid until the next add() or erase_if(). Thread indices
// below Access::kMaxThreads (2^24; the detector checks), held-set ids below 2^31 (each is an
// interned set of locks in the Model's memory).
// Cost: 40 bytes, so that with its 16-byte key the detector's hash slot is one cache line; a
// granule holding up to two accesses (the usual case: the last writes of its two halves, or a
// write and a read) keeps them there, more live in a heap block, freed when the list is back to two.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lockgraph::analysis {

// 16 bytes: two fit in RaceShadow beside its size.
class Access {
 public:
  static constexpr std::uint32_t kMaxThreads = 1u << 24;
  Access() = default;
  Access(std::uint32_t thread, std::uint32_t clock, std::uint32_t site, std::uint32_t lockset, bool write)
      : thread_and_mask_(thread), clock_(clock), site_(site), lockset_and_write_(lockset | (write ? kWrite : 0)) {}

  std::uint32_t thread() const { return thread_and_mask_ & (kMaxThreads - 1); }
  std::uint32_t clock() const { return clock_; }
  std::uint32_t site() const { return site_; }  // any id a trace holds, damaged ones too
  std::uint32_t lockset() const { return lockset_and_write_ & ~kWrite; }
  bool write() const { return (lockset_and_write_ & kWrite) != 0; }
  // The granule's bytes it touched.
  std::uint8_t mask() const { return std::uint8_t(thread_and_mask_ >> 24); }
  void set_mask(std::uint8_t m) { thread_and_mask_ = (thread_and_mask_ & (kMaxThreads - 1)) | std::uint32_t(m) << 24; }

 private:
  static constexpr std::uint32_t kWrite = 0x80000000u;
  // No initializers: trivial, so RaceShadow can keep two in a union (value-initialized: zeros).
  std::uint32_t thread_and_mask_;  // Model thread index, the mask in the top byte
  std::uint32_t clock_;
  std::uint32_t site_;
  std::uint32_t lockset_and_write_;  // the Model's held-set id, kWrite set for a write
};
static_assert(sizeof(Access) == 16);

// The accesses of one granule, writes and reads in one list (a read is checked against the
// writes, a write against everything: one pass with a test of the kind). Two in place saved a
// cache miss per checked access: the heap blocks of two per-kind vectors were a second line to
// fetch after the hash slot (docs/performance.md, "2026-12-07, fifth session").
class RaceShadow {
 public:
  RaceShadow() = default;
  RaceShadow(RaceShadow&& o) noexcept { take(o); }
  RaceShadow& operator=(RaceShadow&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  RaceShadow(const RaceShadow&) = delete;
  RaceShadow& operator=(const RaceShadow&) = delete;
  ~RaceShadow() { release(); }

  std::uint32_t size() const { return size_; }
  const Access* begin() const { return size_ <= kInPlace ? in_place_ : heap_.block; }
  const Access* end() const { return begin() + size_; }

  void add(const Access& a) {
    if (size_ < kInPlace) {
      in_place_[size_++] = a;
      return;
    }
    if (size_ == kInPlace) {
      auto* block = allocate(4);
      block[0] = in_place_[0];
      block[1] = in_place_[1];
      heap_ = Heap{block, 4};
    } else if (size_ == heap_.capacity) {
      auto* block = allocate(heap_.capacity * 2);
      std::memcpy(static_cast<void*>(block), heap_.block, sizeof(Access) * size_);
      std::free(heap_.block);
      heap_ = Heap{block, heap_.capacity * 2};
    }
    heap_.block[size_++] = a;
  }

  // Drops the accesses for which drop(access) is true; drop may change the ones it keeps.
  template <class Drop>
  void erase_if(Drop drop) {
    Access* d = size_ <= kInPlace ? in_place_ : heap_.block;
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < size_; ++i) {
      if (drop(d[i])) continue;
      if (kept != i) d[kept] = d[i];
      ++kept;
    }
    if (size_ > kInPlace && kept <= kInPlace) {  // back in place: the next check reads one line
      Access* block = heap_.block;
      for (std::uint32_t i = 0; i < kept; ++i) in_place_[i] = block[i];
      std::free(block);
    }
    size_ = kept;
  }

 private:
  static constexpr std::uint32_t kInPlace = 2;
  struct Heap {
    Access* block;
    std::uint32_t capacity;
  };
  static Access* allocate(std::uint32_t n) {
    auto* p = static_cast<Access*>(std::malloc(sizeof(Access) * n));
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void release() noexcept {
    if (size_ > kInPlace) std::free(heap_.block);
    size_ = 0;
  }
  void take(RaceShadow& o) noexcept {
    std::memcpy(static_cast<void*>(in_place_), o.in_place_, sizeof in_place_);  // the union, whichever member
    size_ = o.size_;
    o.size_ = 0;
  }

  union {
    Access in_place_[kInPlace];  // size_ <= kInPlace
    Heap heap_;                  // size_ > kInPlace
  };
  std::uint32_t size_ = 0;
};
static_assert(sizeof(RaceShadow) == 40, "with the 16-byte key and the used flag, one 64-byte hash slot");

}  // namespace lockgraph::analysis
