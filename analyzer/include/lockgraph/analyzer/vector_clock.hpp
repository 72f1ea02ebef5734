// VectorClock — the happens-before clock of the analyzer (Lamport/Mattern vector clocks, used
// with FastTrack epochs: Flanagan & Freund, "FastTrack: Efficient and Precise Dynamic Race
// Detection", PLDI 2009).
//
// Contract: entry i is the latest known clock of thread i (dense analyzer thread index); missing
// entries are 0. An epoch (t, c) happens-before a clock V iff c <= V[t].
// Cost: join and copy are O(threads); epoch checks are O(1). 80 bytes; no allocation up to 16
// threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace lockgraph::analysis {

struct Epoch {
  std::uint32_t thread = 0;
  std::uint32_t clock = 0;  // 0: none
};

class VectorClock {
 public:
  VectorClock() noexcept = default;
  VectorClock(const VectorClock& o) { assign(o); }
  VectorClock(VectorClock&& o) noexcept { take(o); }
  VectorClock& operator=(const VectorClock& o) {
    if (this != &o) assign(o);
    return *this;
  }
  VectorClock& operator=(VectorClock&& o) noexcept {
    if (this != &o) {
      delete[] heap_;
      take(o);
    }
    return *this;
  }
  ~VectorClock() { delete[] heap_; }

  std::uint32_t get(std::uint32_t t) const noexcept { return t < size_ ? data()[t] : 0; }
  void set(std::uint32_t t, std::uint32_t v) {
    if (t >= size_) resize(t + 1);
    // An inline clock has t < size_ <= kInline; said so, because g++ cannot see it and warns of
    // an out-of-bounds store for a constant t >= kInline.
    if (heap_ == nullptr && t < kInline) {
      inline_[t] = v;
    } else {
      heap_[t] = v;
    }
  }
  void tick(std::uint32_t t) { set(t, get(t) + 1); }
  // Inline for two inline clocks (the usual case: joins are three per acquire and release, and
  // the call with the general path's register saves cost as much as the join); the rest out of line.
  [[gnu::always_inline]] void join(const VectorClock& o) {
    if (heap_ == nullptr && o.heap_ == nullptr) {  // all kInline entries at once, as leq()
      max_inline(o.inline_);
      size_ = std::max(size_, o.size_);
      return;
    }
    join_general(o);
  }
  // Does epoch e happen-before (or equal) this clock?
  bool covers(const Epoch& e) const noexcept { return e.clock <= get(e.thread); }
  Epoch epoch(std::uint32_t t) const noexcept { return Epoch{t, get(t)}; }
  // Pointwise <=: everything this clock knows, `o` knows.
  [[gnu::always_inline]] bool leq(const VectorClock& o) const noexcept {
    if (heap_ == nullptr && o.heap_ == nullptr) {
      // Both inline, where entries past size_ are 0: one branch-free pass over all of them
      // (four vector compares), not a loop with an exit per entry (wcp's rule (c) asks this at
      // every release).
#if defined(__SSE2__)
      // In SSE2, as max_inline(): g++ left the loop partly scalar.
      static_assert(kInline == 16);  // four steps of four, written out (-O2 does not unroll)
      const __m128i any = _mm_or_si128(_mm_or_si128(later4(inline_, o.inline_), later4(inline_ + 4, o.inline_ + 4)),
                                       _mm_or_si128(later4(inline_ + 8, o.inline_ + 8), later4(inline_ + 12, o.inline_ + 12)));
      return _mm_movemask_epi8(any) == 0;
#else
      std::uint32_t later = 0;
      for (std::uint32_t i = 0; i < kInline; ++i) later |= std::uint32_t(inline_[i] > o.inline_[i]);
      return later == 0;
#endif
    }
    return leq_general(o);
  }
  [[gnu::noinline]] bool leq_general(const VectorClock& o) const noexcept {
    const std::uint32_t common = std::min(size_, o.size_);
    const std::uint32_t* c = data();
    const std::uint32_t* oc = o.data();
    for (std::uint32_t i = 0; i < common; ++i) {
      if (c[i] > oc[i]) return false;
    }
    for (std::uint32_t i = common; i < size_; ++i) {
      if (c[i] != 0) return false;
    }
    return true;
  }
  bool empty() const noexcept { return size_ == 0; }

 private:
  // Up to kInline threads the entries live in the object itself: no allocation per copy, and
  // a clock kept inside a larger record (a critical section, a lock) is read without a pointer
  // chase. More threads move them to the heap.
  static constexpr std::uint32_t kInline = 16;

  const std::uint32_t* data() const noexcept { return heap_ != nullptr ? heap_ : inline_; }
  std::uint32_t* data() noexcept { return heap_ != nullptr ? heap_ : inline_; }

#if defined(__SSE2__)
  // Four entries at a time, as signed numbers with the top bit flipped (SSE2 has no unsigned
  // compare): where a[i] > b[i], all ones.
  [[gnu::always_inline]] static __m128i later4(const std::uint32_t* a, const std::uint32_t* b) {
    const __m128i bias = _mm_set1_epi32(static_cast<int>(0x80000000u));
    return _mm_cmpgt_epi32(_mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)), bias),
                           _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), bias));
  }
  // a[i] = max(a[i], b[i]) for four entries.
  [[gnu::always_inline]] static void max4(std::uint32_t* a, const std::uint32_t* b) {
    const __m128i a_larger = later4(a, b);
    const __m128i av = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
    const __m128i bv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(a), _mm_or_si128(_mm_and_si128(a_larger, av), _mm_andnot_si128(a_larger, bv)));
  }
#endif
  // inline_[i] = max(inline_[i], other[i]) for all kInline entries. Written out in SSE2 (the
  // build's baseline has no unsigned 32-bit max): inlined, the plain loop was left scalar or
  // behind an overlap check, since `other` may be this clock's own entries.
  [[gnu::always_inline]] void max_inline(const std::uint32_t* other) {
#if defined(__SSE2__)
    static_assert(kInline == 16);  // four steps of four, written out (-O2 does not unroll)
    max4(inline_, other), max4(inline_ + 4, other + 4), max4(inline_ + 8, other + 8), max4(inline_ + 12, other + 12);
#else
    for (std::uint32_t i = 0; i < kInline; ++i) inline_[i] = std::max(inline_[i], other[i]);
#endif
  }
  [[gnu::noinline]] void join_general(const VectorClock& o) {
    if (o.size_ > size_) resize(o.size_);
    std::uint32_t* c = data();
    const std::uint32_t* oc = o.data();
    for (std::uint32_t i = 0; i < o.size_; ++i) c[i] = std::max(c[i], oc[i]);
  }
  // Grows to n entries, the new ones 0 (never shrinks the storage).
  void resize(std::uint32_t n) {
    if (n > capacity_) {
      const std::uint32_t cap = std::max(n, 2 * capacity_);
      auto* bigger = new std::uint32_t[cap];
      std::copy_n(data(), size_, bigger);
      delete[] heap_;
      heap_ = bigger;
      capacity_ = cap;
    }
    if (n > size_) std::fill(data() + size_, data() + n, 0u);
    size_ = n;
  }
  [[gnu::always_inline]] void assign(const VectorClock& o) {
    if (heap_ == nullptr && o.heap_ == nullptr) {
      // Both inline: one fixed-size copy (entries past size_ are 0 in both), where a
      // copy of o.size_ entries was a call to memmove at every clock copy.
      std::copy_n(o.inline_, kInline, inline_);
      size_ = o.size_;
      return;
    }
    assign_general(o);
  }
  [[gnu::noinline]] void assign_general(const VectorClock& o) {
    if (o.size_ > capacity_) resize(o.size_);
    std::copy_n(o.data(), o.size_, data());
    size_ = o.size_;
  }
  void take(VectorClock& o) noexcept {
    size_ = o.size_;
    capacity_ = o.capacity_;
    heap_ = o.heap_;
    if (heap_ == nullptr) std::copy_n(o.inline_, kInline, inline_);
    o.heap_ = nullptr;
    o.size_ = 0;
    std::fill_n(o.inline_, kInline, 0u);
    o.capacity_ = kInline;
  }

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInline;
  std::uint32_t* heap_ = nullptr;
  // Entries past size_ are 0 while the clock is inline (leq() relies on it): the constructor
  // zeroes them, resize() only grows, assign() and take() copy all kInline, and a moved-from clock
  // is zeroed.
  std::uint32_t inline_[kInline] = {};
};

}  // namespace lockgraph::analysis
