// 64 threads x 100,000 lock operations: every record present, every lock's sequence gap-free.
#include <gtest/gtest.h>

#include <latch>
#include <map>
#include <vector>

#include "lockgraph/mutex.hpp"
#include "lockgraph/thread.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using format::Kind;

#ifdef LOCKGRAPH_TEST_SCALE_DOWN
constexpr int kOpsPerThread = 2000;
#else
constexpr int kOpsPerThread = 100000;
#endif
constexpr int kThreads = 64;
constexpr int kLocks = 8;

TEST(Stress, SixtyFourThreadsEveryRecordPresentSequencesGapFree) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    std::vector<std::unique_ptr<lockgraph::mutex>> locks;
    for (int i = 0; i < kLocks; ++i) locks.push_back(std::make_unique<lockgraph::mutex>());
    std::latch start(kThreads);
    std::vector<lockgraph::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();  // all threads contend from the first operation
        for (int i = 0; i < kOpsPerThread; ++i) {
          auto& m = *locks[std::size_t((t + i) % kLocks)];
          m.lock();
          m.unlock();
        }
      });
    }
    for (auto& th : threads) th.join();
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  analysis::Problem err;
  auto file = analysis::TraceFile::open(child.trace, &err);  // streamed: 12.8M records
  ASSERT_TRUE(file) << err.message();
  for (const auto& p : file->problems()) ADD_FAILURE() << p.message();
  EXPECT_EQ(file->records_lost(), 0u);

  std::map<std::uint32_t, std::uint64_t> acquired_per_thread;
  std::map<std::uint64_t, std::vector<std::uint64_t>> seqs;
  for (std::uint32_t t : file->threads()) {
    auto c = file->cursor(t);
    for (analysis::Event e; c.next(&e);) {
      if (e.kind == Kind::kLockAcquired) ++acquired_per_thread[e.thread];
      if (e.kind == Kind::kLockAcquired || e.kind == Kind::kLockRelease) seqs[e.object].push_back(e.seq);
    }
  }
  ASSERT_EQ(acquired_per_thread.size(), std::size_t(kThreads));
  for (const auto& [tid, n] : acquired_per_thread) EXPECT_EQ(n, std::uint64_t(kOpsPerThread)) << "thread " << tid;
  ASSERT_EQ(seqs.size(), std::size_t(kLocks));
  for (auto& [obj, s] : seqs) {
    std::sort(s.begin(), s.end());
    ASSERT_EQ(s.size(), std::size_t(2) * kThreads * kOpsPerThread / kLocks);
    for (std::size_t i = 0; i < s.size(); ++i) ASSERT_EQ(s[i], i + 1) << "lock " << obj;
  }
}

}  // namespace
}  // namespace lockgraph::testing
