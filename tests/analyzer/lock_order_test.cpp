// deadlock_potential / lock_order_inversion over hand-written traces: each rule with its negative twin.
#include <gtest/gtest.h>

#include "analyze_text.hpp"

namespace lockgraph::testing {
namespace {

using analysis::kDeadlockPotential;
using analysis::kLockOrderInversion;

// Two threads, started by main, taking A and B in opposite orders at different times.
constexpr const char* kAbBa = R"(
1 thread_start
1 lock_create obj=A
1 lock_create obj=B
1 thread_create obj=2
1 thread_create obj=3
2 thread_start obj=1
2 lock_acquired obj=A at=t.cpp:10 fn=one
2 lock_acquired obj=B at=t.cpp:11 fn=one
2 lock_release obj=B
2 lock_release obj=A
3 thread_start obj=1
3 lock_acquired obj=B at=t.cpp:20 fn=two
3 lock_acquired obj=A at=t.cpp:21 fn=two
3 lock_release obj=A
3 lock_release obj=B
)";

TEST(LockOrder, AbBaIsAPotentialDeadlockWithBothSitesPerEdge) {
  auto r = analyze_text(kAbBa);
  auto d = of_kind(r, kDeadlockPotential);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(r.findings.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->cycle, (std::vector<std::string>{"A", "B", "A"}));
  ASSERT_EQ(d[0]->locations.size(), 4u);
  EXPECT_EQ(d[0]->locations[0].line, 10u);
  EXPECT_EQ(d[0]->locations[0].role, "holds A");
  EXPECT_EQ(d[0]->locations[0].thread, "thread 2");
  EXPECT_EQ(d[0]->locations[1].line, 11u);
  EXPECT_EQ(d[0]->locations[1].role, "then acquires B");
  EXPECT_EQ(d[0]->locations[2].line, 20u);
  EXPECT_EQ(d[0]->locations[2].thread, "thread 3");
  EXPECT_EQ(d[0]->locations[3].line, 21u);
  EXPECT_EQ(d[0]->threads, (std::vector<std::string>{"thread 2", "thread 3"}));
}

TEST(LockOrder, CommonGateLockMeansNothing) {
  auto r = analyze_text(R"(
2 lock_acquired obj=G
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_release obj=B
2 lock_release obj=A
2 lock_release obj=G
3 lock_acquired obj=G
3 lock_acquired obj=B
3 lock_acquired obj=A
3 lock_release obj=A
3 lock_release obj=B
3 lock_release obj=G
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(LockOrder, GateHeldOnOnlyOneSideIsStillADeadlock) {
  auto r = analyze_text(R"(
2 lock_acquired obj=G
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_release obj=B
2 lock_release obj=A
2 lock_release obj=G
3 lock_acquired obj=B
3 lock_acquired obj=A
3 lock_release obj=A
3 lock_release obj=B
)");
  EXPECT_EQ(of_kind(r, kDeadlockPotential).size(), 1u) << kinds(r);
}

TEST(LockOrder, InversionOrderedByJoinIsOnlyAnInversion) {
  auto r = analyze_text(R"(
1 thread_start
1 thread_create obj=2
2 thread_start obj=1
2 lock_acquired obj=A at=t.cpp:10
2 lock_acquired obj=B at=t.cpp:11
2 lock_release obj=B
2 lock_release obj=A
2 thread_end
1 thread_join obj=2
1 thread_create obj=3
3 thread_start obj=1
3 lock_acquired obj=B at=t.cpp:20
3 lock_acquired obj=A at=t.cpp:21
3 lock_release obj=A
3 lock_release obj=B
)");
  EXPECT_TRUE(of_kind(r, kDeadlockPotential).empty()) << kinds(r);
  auto inv = of_kind(r, kLockOrderInversion);
  ASSERT_EQ(inv.size(), 1u) << kinds(r);
  EXPECT_EQ(inv[0]->severity, analysis::Severity::kWarning);
}

TEST(LockOrder, InversionOrderedBySemaphoreIsOnlyAnInversion) {
  auto r = analyze_text(R"(
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_release obj=B
2 lock_release obj=A
2 sem_release obj=S seq=1
3 sem_acquired obj=S seq=2
3 lock_acquired obj=B
3 lock_acquired obj=A
3 lock_release obj=A
3 lock_release obj=B
)");
  EXPECT_EQ(kinds(r), std::string(kLockOrderInversion));
}

TEST(LockOrder, OrderedOnlyThroughTheLocksThemselvesIsStillADeadlock) {
  // Thread 3 runs after thread 2 released B — the order those very locks imposed in this run is
  // an accident of timing, not a guarantee.
  auto r = analyze_text(kAbBa);
  EXPECT_EQ(of_kind(r, kDeadlockPotential).size(), 1u);
}

TEST(LockOrder, TryLockBackOffMeansNothing) {
  auto r = analyze_text(R"(
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_release obj=B
2 lock_release obj=A
3 lock_acquired obj=B
3 lock_failed obj=A flags=try
3 lock_release obj=B
3 lock_acquired obj=B
3 lock_acquired obj=A flags=try
3 lock_release obj=A
3 lock_release obj=B
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(LockOrder, TimedLockNeverBlocksForeverSoNoEdge) {
  auto r = analyze_text(R"(
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_release obj=B
2 lock_release obj=A
3 lock_acquired obj=B
3 lock_acquired obj=A flags=timed
3 lock_release obj=A
3 lock_release obj=B
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(LockOrder, RecursiveReentryAddsNoEdge) {
  auto r = analyze_text(R"(
2 lock_create obj=R type=recursive_mutex
2 lock_acquired obj=R
2 lock_acquired obj=A
2 lock_acquired obj=R flags=recursive
2 lock_release obj=R flags=recursive
2 lock_release obj=A
2 lock_release obj=R
3 lock_acquired obj=R
3 lock_acquired obj=A
3 lock_release obj=A
3 lock_release obj=R
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(LockOrder, ReaderReaderInversionMeansNothing) {
  auto r = analyze_text(R"(
2 lock_acquired obj=S flags=shared
2 lock_acquired obj=T flags=shared
2 lock_release obj=T flags=shared
2 lock_release obj=S flags=shared
3 lock_acquired obj=T flags=shared
3 lock_acquired obj=S flags=shared
3 lock_release obj=S flags=shared
3 lock_release obj=T flags=shared
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(LockOrder, ExclusiveSharedInversionIsAPotentialDeadlock) {
  auto r = analyze_text(R"(
2 lock_acquired obj=S
2 lock_acquired obj=T flags=shared
2 lock_release obj=T flags=shared
2 lock_release obj=S
3 lock_acquired obj=T
3 lock_acquired obj=S flags=shared
3 lock_release obj=S flags=shared
3 lock_release obj=T
)");
  auto d = of_kind(r, kDeadlockPotential);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->locations[1].role, "then acquires T (shared)");
}

TEST(LockOrder, DestroyedLockAndANewOneWithTheSameIdAreDifferentLocks) {
  auto r = analyze_text(R"(
2 lock_create obj=A
2 lock_create obj=L
2 lock_acquired obj=A
2 lock_acquired obj=L
2 lock_release obj=L
2 lock_release obj=A
2 lock_destroy obj=L
3 lock_create obj=L
3 lock_acquired obj=L
3 lock_acquired obj=A
3 lock_release obj=A
3 lock_release obj=L
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(LockOrder, SingleThreadInversionIsAWarningNotADeadlock) {
  auto r = analyze_text(R"(
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_release obj=B
2 lock_release obj=A
2 lock_acquired obj=B
2 lock_acquired obj=A
2 lock_release obj=A
2 lock_release obj=B
)");
  EXPECT_EQ(kinds(r), std::string(kLockOrderInversion));
}

std::string cycle_trace(const std::vector<std::string>& locks, int first_thread) {
  std::string t;
  for (std::size_t i = 0; i < locks.size(); ++i) {
    std::string th = std::to_string(first_thread + int(i));
    const std::string& a = locks[i];
    const std::string& b = locks[(i + 1) % locks.size()];
    t += th + " lock_acquired obj=" + a + "\n" + th + " lock_acquired obj=" + b + "\n" + th + " lock_release obj=" + b +
         "\n" + th + " lock_release obj=" + a + "\n";
  }
  return t;
}

TEST(LockOrder, ThreeAndFiveLockCyclesSmallestFirst) {
  std::string trace = cycle_trace({"P", "Q", "R", "S", "T"}, 10) + cycle_trace({"A", "B", "C"}, 2);
  auto r = analyze_text(trace);
  auto d = of_kind(r, kDeadlockPotential);
  ASSERT_EQ(d.size(), 2u) << kinds(r);
  EXPECT_EQ(d[0]->cycle, (std::vector<std::string>{"A", "B", "C", "A"}));
  EXPECT_EQ(d[1]->cycle, (std::vector<std::string>{"P", "Q", "R", "S", "T", "P"}));
  EXPECT_EQ(d[0]->locations.size(), 6u);
  EXPECT_EQ(d[1]->threads.size(), 5u);
}

TEST(LockOrder, TwoThousandLocksHundredHeldOneInversion) {
  std::string t;
  // Eight threads each take 100 of 2,000 locks nested in ascending order: a consistent order.
  for (int th = 2; th < 10; ++th) {
    int base = (th - 2) * 250;
    for (int i = 0; i < 100; ++i) t += std::to_string(th) + " lock_acquired obj=L" + std::to_string(base + i) + "\n";
    for (int i = 99; i >= 0; --i) t += std::to_string(th) + " lock_release obj=L" + std::to_string(base + i) + "\n";
  }
  for (int i = 0; i < 2000; ++i) t += "1 lock_create obj=L" + std::to_string(i) + "\n";
  auto clean = analyze_text(t);
  EXPECT_TRUE(clean.findings.empty()) << kinds(clean);
  // One thread takes L1550 then L1510 while another took L1510 ... L1550 in order: one cycle.
  t += "20 lock_acquired obj=L1550\n20 lock_acquired obj=L1510\n20 lock_release obj=L1510\n20 lock_release obj=L1550\n";
  auto r = analyze_text(t);
  auto d = of_kind(r, kDeadlockPotential);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->cycle, (std::vector<std::string>{"L1510", "L1550", "L1510"}));
}

TEST(LockOrder, ProcessSharedLocksFormOneGraphAcrossProcesses) {
  // Ids with the process-shared bit (1 << 62) are the same lock in every process.
  auto r = analyze_text(R"(
process 0 pid=10
process 1 pid=11
0:1 lock_create obj=0x4000000000000001 name=X
0:1 lock_create obj=0x4000000000000002 name=Y
0:1 lock_acquired obj=0x4000000000000001 seq=1
0:1 lock_acquired obj=0x4000000000000002 seq=1
0:1 lock_release obj=0x4000000000000002 seq=2
0:1 lock_release obj=0x4000000000000001 seq=2
1:1 lock_acquired obj=0x4000000000000002 seq=3
1:1 lock_acquired obj=0x4000000000000001 seq=3
1:1 lock_release obj=0x4000000000000001 seq=4
1:1 lock_release obj=0x4000000000000002 seq=4
)");
  auto d = of_kind(r, kDeadlockPotential);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->cycle, (std::vector<std::string>{"X", "Y", "X"}));
  EXPECT_EQ(d[0]->threads, (std::vector<std::string>{"thread 1 of pid 10", "thread 1 of pid 11"}));
}

TEST(LockOrder, FiftyLockCycle) {
  std::vector<std::string> locks;
  for (int i = 0; i < 50; ++i) locks.push_back("M" + std::to_string(100 + i));
  auto r = analyze_text(cycle_trace(locks, 2));
  auto d = of_kind(r, kDeadlockPotential);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->cycle.size(), 51u);
}

}  // namespace
}  // namespace lockgraph::testing
