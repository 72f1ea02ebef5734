// The live watchdog ends a real deadlock within seconds instead of hanging, and leaves the
// wait-for cycle in the trace.
#include <gtest/gtest.h>

#include <cstdlib>
#include <latch>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using format::Kind;

struct DeadlockRecord {
  std::uint8_t cause = 0;
  std::vector<std::uint32_t> threads;
  std::vector<std::uint32_t> owners;
};

std::vector<DeadlockRecord> deadlock_records(const std::string& path) {
  analysis::Problem err;
  auto f = analysis::TraceFile::open(path, &err);
  EXPECT_TRUE(f) << err.message();
  std::vector<DeadlockRecord> out;
  if (!f) return out;
  auto c = f->cursor(format::kProcessThread);
  for (analysis::Event e; c.next(&e);) {
    if (e.kind != Kind::kDeadlock) continue;
    DeadlockRecord r;
    r.cause = e.flags;
    EXPECT_EQ(e.extra_words, 4 * e.value);
    for (std::uint64_t i = 0; i < e.value && 4 * i + 3 < e.extra_words; ++i) {
      r.threads.push_back(std::uint32_t(e.extra[4 * i]));
      r.owners.push_back(std::uint32_t(e.extra[4 * i + 2] & 0xffffffffu));
    }
    out.push_back(r);
  }
  return out;
}

TEST(Watchdog, AbBaDeadlockEndsTheProgramAndIsRecorded) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    lockgraph::mutex a("A"), b("B");
    std::latch both_hold_first(2);  // guarantees the deadlock: no timing involved
    lockgraph::thread t1([&] {
      a.lock();
      both_hold_first.arrive_and_wait();
      b.lock();
    });
    lockgraph::thread t2([&] {
      b.lock();
      both_hold_first.arrive_and_wait();
      a.lock();
    });
    t1.join();
    t2.join();
    return 0;  // never reached
  });
  ASSERT_TRUE(child.exited());
  EXPECT_EQ(child.exit_code(), kDeadlockExitCode);
  auto records = deadlock_records(child.trace);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].cause, kDeadlockCycle);
  ASSERT_EQ(records[0].threads.size(), 2u);
  // Each waits for a lock the other owns.
  EXPECT_EQ(records[0].owners[0], records[0].threads[1]);
  EXPECT_EQ(records[0].owners[1], records[0].threads[0]);
  analysis::Problem err;
  auto f = analysis::TraceFile::open(child.trace, &err);
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->has_trailer());
  EXPECT_EQ(f->trailer()->extra[0], 1u);  // ended by the watchdog
}

TEST(Watchdog, SelfDeadlockOnNonRecursiveMutex) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    lockgraph::mutex m("M");
    m.lock();
    m.lock();  // undefined for std::mutex; in practice a hang. Here: reported.
    return 0;
  });
  ASSERT_TRUE(child.exited());
  EXPECT_EQ(child.exit_code(), kDeadlockExitCode);
  auto records = deadlock_records(child.trace);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].threads.size(), 1u);
  EXPECT_EQ(records[0].owners[0], records[0].threads[0]);
}

TEST(Watchdog, EveryThreadBlockedWithoutCycleIsAStall) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    setenv("LOCKGRAPH_STALL_MS", "300", 1);
    lockgraph::counting_semaphore<1> never(0, "never");
    lockgraph::thread t([&] { never.acquire(); });
    t.join();
    return 0;
  });
  ASSERT_TRUE(child.exited());
  EXPECT_EQ(child.exit_code(), kDeadlockExitCode);
  auto records = deadlock_records(child.trace);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].cause, kDeadlockStall);
  EXPECT_EQ(records[0].threads.size(), 2u);
}

TEST(Watchdog, ReportModeKeepsTheProgramRunning) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    setenv("LOCKGRAPH_ON_DEADLOCK", "report", 1);
    setenv("LOCKGRAPH_STALL_MS", "200", 1);
    lockgraph::counting_semaphore<1> late(0, "late");
    lockgraph::thread t([&] { late.acquire(); });
    // An untraced helper un-blocks everybody once the stall is in the trace: no timing guess.
    std::thread rescuer([&] {
      std::string path = rt::trace_path();
      for (int i = 0; i < 2000 && deadlock_records(path).empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      late.release();
    });
    t.join();
    rescuer.join();
    return 7;
  });
  ASSERT_TRUE(child.exited());
  EXPECT_EQ(child.exit_code(), 7);
  auto records = deadlock_records(child.trace);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].cause, kDeadlockStall);
}

}  // namespace
}  // namespace lockgraph::testing
