// VectorClock keeps up to 16 entries inline and moves to the heap past that: every operation must
// give the same answers on both sides of that line, and copies and moves must own their entries.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "lockgraph/analyzer/vector_clock.hpp"

namespace lockgraph::analysis {
namespace {

// A clock with entries 1..n at threads 0..n-1 (entry i = i + 1 + offset).
VectorClock ramp(std::uint32_t n, std::uint32_t offset = 0) {
  VectorClock c;
  for (std::uint32_t i = 0; i < n; ++i) c.set(i, i + 1 + offset);
  return c;
}

TEST(VectorClock, GetSetTickAndGrowthAcrossTheInlineLimit) {
  for (std::uint32_t n : {0u, 1u, 15u, 16u, 17u, 40u, 300u}) {
    VectorClock c = ramp(n);
    for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(c.get(i), i + 1) << n;
    EXPECT_EQ(c.get(n), 0u);          // missing entries are 0
    EXPECT_EQ(c.get(100000), 0u);
    c.tick(n + 5);                    // growth zero-fills the gap
    EXPECT_EQ(c.get(n + 5), 1u);
    for (std::uint32_t i = n; i < n + 5; ++i) EXPECT_EQ(c.get(i), 0u) << n;
    EXPECT_EQ(c.empty(), false);
  }
  EXPECT_TRUE(VectorClock().empty());
}

TEST(VectorClock, JoinAndLeqBetweenInlineAndHeapClocks) {
  for (std::uint32_t a : {3u, 16u, 20u}) {
    for (std::uint32_t b : {2u, 16u, 33u}) {
      VectorClock x = ramp(a), y = ramp(b, 10);
      VectorClock j = x;
      j.join(y);
      for (std::uint32_t i = 0; i < std::max(a, b) + 2; ++i) {
        ASSERT_EQ(j.get(i), std::max(x.get(i), y.get(i))) << a << " " << b << " " << i;
      }
      EXPECT_TRUE(x.leq(j));
      EXPECT_TRUE(y.leq(j));
      EXPECT_EQ(j.leq(x), b <= a && y.leq(x));
      EXPECT_TRUE(x.leq(x));
    }
  }
  // Trailing zeros do not matter to leq; a trailing non-zero does.
  VectorClock small = ramp(2), padded = ramp(2);
  padded.set(30, 0);
  EXPECT_TRUE(padded.leq(small));
  EXPECT_TRUE(small.leq(padded));
  padded.set(30, 1);
  EXPECT_FALSE(padded.leq(small));
}

// The inline join and leq compare four entries at a time as signed numbers with the top bit
// flipped: entries on both sides of 2^31 must still compare as unsigned.
TEST(VectorClock, InlineJoinAndLeqCompareEntriesAsUnsigned) {
  const std::uint32_t values[] = {0u, 1u, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu};
  VectorClock x, y;
  std::uint32_t i = 0;
  for (std::uint32_t a : values) {
    for (std::uint32_t b : values) {
      if (i == 16) break;  // stay inline
      x.set(i, a);
      y.set(i, b);
      ++i;
    }
  }
  VectorClock j = x;
  j.join(y);
  bool x_leq_y = true;
  for (std::uint32_t k = 0; k < 16; ++k) {
    EXPECT_EQ(j.get(k), std::max(x.get(k), y.get(k))) << k;
    x_leq_y = x_leq_y && x.get(k) <= y.get(k);
  }
  EXPECT_EQ(x.leq(y), x_leq_y);
  EXPECT_TRUE(x.leq(j));
  EXPECT_TRUE(y.leq(j));
  VectorClock high, low;
  high.set(3, 0x80000000u);
  low.set(3, 0x7fffffffu);
  EXPECT_TRUE(low.leq(high));
  EXPECT_FALSE(high.leq(low));
  low.join(high);
  EXPECT_EQ(low.get(3), 0x80000000u);
}

// leq() and join() of two inline clocks look at all 16 entries: the ones past the size must be 0
// whatever the clock went through (a move onto a longer clock, reuse after being moved from).
TEST(VectorClock, InlineEntriesPastTheSizeStayZeroThroughMovesAndReuse) {
  VectorClock wide = ramp(12);
  wide = ramp(3);  // move-assign of a shorter clock: entries 3..11 must not linger
  EXPECT_TRUE(wide.leq(ramp(3)));
  EXPECT_EQ(wide.get(5), 0u);
  VectorClock taken = std::move(wide);
  EXPECT_TRUE(taken.leq(ramp(3)));
  wide.set(0, 1);  // the moved-from clock, used again
  EXPECT_TRUE(wide.leq(ramp(1)));
  EXPECT_FALSE(ramp(12).leq(wide));
  VectorClock joined;
  joined.join(wide);
  for (std::uint32_t i = 1; i < 16; ++i) EXPECT_EQ(joined.get(i), 0u) << i;
  joined.join(ramp(16, 5));
  EXPECT_EQ(joined.get(15), 21u);
  EXPECT_TRUE(ramp(16, 5).leq(joined));
  EXPECT_FALSE(joined.leq(ramp(16, 4)));
}

TEST(VectorClock, CopiesAndMovesOwnTheirEntries) {
  for (std::uint32_t n : {5u, 16u, 64u}) {
    VectorClock original = ramp(n);
    VectorClock copy = original;
    copy.set(0, 99);
    EXPECT_EQ(original.get(0), 1u) << n;  // the copy did not share storage
    VectorClock moved = std::move(copy);
    EXPECT_EQ(moved.get(0), 99u);
    EXPECT_EQ(moved.get(n - 1), n);
    VectorClock assigned = ramp(3);
    assigned = original;  // shrink: the entries past the source's are gone
    EXPECT_EQ(assigned.get(n - 1), n);
    assigned = ramp(2);
    EXPECT_EQ(assigned.get(2), 0u);
    EXPECT_EQ(assigned.get(1), 2u);
    VectorClock& self = assigned;
    assigned = self;  // self-assignment keeps the entries
    EXPECT_EQ(assigned.get(1), 2u);
    VectorClock big = ramp(40);
    big = std::move(assigned);  // a heap clock takes an inline one's entries
    EXPECT_EQ(big.get(1), 2u);
    EXPECT_EQ(big.get(30), 0u);
  }
  // Clocks in a growing vector are moved around: their entries survive.
  std::vector<VectorClock> clocks;
  for (std::uint32_t i = 0; i < 50; ++i) clocks.push_back(ramp(i % 30 + 1, i));
  for (std::uint32_t i = 0; i < 50; ++i) {
    ASSERT_EQ(clocks[i].get(0), 1 + i) << i;
    ASSERT_EQ(clocks[i].get(i % 30), i % 30 + 1 + i) << i;
  }
}

}  // namespace
}  // namespace lockgraph::analysis
