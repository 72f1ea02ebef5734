// A process SIGKILLed in the middle of heavy locking leaves a trace whose records are all intact
// up to the kill: every lock's sequence numbers are exactly 1..max, with no gap and no garbage.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include "lockgraph/mutex.hpp"
#include "lockgraph/runtime.hpp"
#include "lockgraph/thread.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using format::Kind;

void expect_gap_free(const std::vector<analysis::Event>& events, std::size_t* total_lock_events) {
  std::map<std::uint64_t, std::set<std::uint64_t>> seqs;
  *total_lock_events = 0;
  for (const auto& e : events) {
    if (e.kind == Kind::kLockAcquired || e.kind == Kind::kLockRelease) {
      EXPECT_TRUE(seqs[e.object].insert(e.seq).second) << "duplicate seq " << e.seq;
      ++*total_lock_events;
    }
  }
  for (const auto& [obj, s] : seqs) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(*s.begin(), 1u);
    EXPECT_EQ(*s.rbegin(), s.size()) << "gap in the sequence of lock " << obj;
  }
}

// Runs `threads` threads of `work(thread index, progress)` in a traced child, each looping forever
// and counting its own steps in `progress[thread index]` (shared memory), and SIGKILLs the child
// once every thread has done at least `steps_per_thread` steps, so the kill lands mid-flight with
// every thread recording (a total alone let one thread finish the quota before another started).
using Work = std::function<void(int, std::atomic<std::uint64_t>*)>;
ChildResult kill_mid_flight(const TempDir& dir, int threads, std::uint64_t steps_per_thread, const Work& work) {
  const std::size_t bytes = 4096;
  EXPECT_LE(std::size_t(threads) * 64, bytes);
  auto* shm = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  EXPECT_NE(shm, MAP_FAILED);
  // One cache line per thread's counter, so the counters don't slow each other down.
  auto progress = [shm](int t) { return reinterpret_cast<std::atomic<std::uint64_t>*>(shm + 64 * t); };
  for (int t = 0; t < threads; ++t) new (progress(t)) std::atomic<std::uint64_t>(0);
  pid_t pid = start_traced_child(dir, [&] {
    std::vector<lockgraph::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] { work(t, progress(t)); });
    for (auto& t : ts) t.join();  // never returns: killed
    return 0;
  });
  // A child that dies early must not hang the test: look for its exit (without reaping it).
  auto child_ended = [pid] {
    siginfo_t info{};
    return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
  };
  for (int t = 0; t < threads; ++t) {
    while (progress(t)->load() < steps_per_thread && !child_ended()) sched_yield();
  }
  kill(pid, SIGKILL);
  ChildResult child = wait_child(dir, pid);
  munmap(shm, bytes);
  return child;
}

TEST(CrashSafety, SigkillDuringHeavyLockingLosesNothingRecorded) {
  TempDir dir;
  auto child = kill_mid_flight(dir, 4, 50000, [](int, std::atomic<std::uint64_t>* progress) {
    static lockgraph::mutex a("A"), b("B");  // created once, in the child (thread-safe statics)
    for (;;) {
      std::lock_guard<lockgraph::mutex> ga(a);
      std::lock_guard<lockgraph::mutex> gb(b);
      progress->fetch_add(1, std::memory_order_relaxed);
    }
  });
  ASSERT_TRUE(child.signaled());
  EXPECT_EQ(child.signal(), SIGKILL);

  std::vector<analysis::Problem> problems;
  auto events = read_events(child.trace, &problems);
  for (const auto& p : problems) ADD_FAILURE() << p.message();
  analysis::Problem err;
  auto f = analysis::TraceFile::open(child.trace, &err);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->has_trailer());
  std::size_t lock_events = 0;
  expect_gap_free(events, &lock_events);
  // Each completed iteration is 4 records (2 acquires, 2 releases); all of them are there.
  EXPECT_GE(lock_events, 4 * 4 * 50000u);
}

// Accesses are appended to a run in place (the run's length, then the access word; or a pair word's
// second half, stored with the first in one 8-byte store): a kill between leaves a zero word the
// reader skips, never a torn access or a corrupt record. Each thread writes consecutive addresses
// (two to a pair word), so every thread's accesses read back must be exactly 0, 1, 2, ... n-1.
TEST(CrashSafety, SigkillDuringAccessRunsLeavesEveryRecordedAccessIntact) {
  TempDir dir;
  auto child = kill_mid_flight(dir, 2, 200000, [](int t, std::atomic<std::uint64_t>* progress) {
    const std::uint64_t base = std::uint64_t(t + 1) << 32;
    for (std::uint64_t i = 0;; ++i) {
      rt::record_access(reinterpret_cast<void*>(base + 8 * i), 8, true, source_site::current());
      progress->fetch_add(1, std::memory_order_relaxed);
    }
  });
  ASSERT_TRUE(child.signaled());

  std::vector<analysis::Problem> problems;
  auto events = read_events(child.trace, &problems);
  for (const auto& p : problems) ADD_FAILURE() << p.message();
  std::map<std::uint32_t, std::uint64_t> next_per_thread;
  std::uint64_t total = 0;
  for (const auto& e : events) {
    if (e.kind != Kind::kWrite) continue;
    std::uint64_t base = e.object >> 32 << 32;
    ASSERT_TRUE(base == (std::uint64_t(1) << 32) || base == (std::uint64_t(2) << 32)) << std::hex << e.object;
    std::uint64_t& next = next_per_thread[e.thread];
    ASSERT_EQ(e.object, base + 8 * next) << "thread " << e.thread << ": access " << next << " missing or torn";
    EXPECT_EQ(e.access_size(), 8u);
    ++next;
    ++total;
  }
  EXPECT_EQ(next_per_thread.size(), 2u);
  EXPECT_GE(total, 2 * 200000u);
}

}  // namespace
}  // namespace lockgraph::testing

namespace lockgraph::testing {
namespace {

// A clean exit stops the staging writer before the trailer (finishing the batch it holds), so a
// trace with its trailer has every chunk once: threads that end hand their chunks over (the
// first hand-over starts the writer, which copies at once), then the program exits right away.
// The window it closes (a copy made, its slot not yet cleared) is narrow: this checks the
// property on ten real runs rather than forcing the interleaving.
TEST(CrashSafety, CleanExitLeavesEveryChunkOnce) {
  for (int run = 0; run < 10; ++run) {
    TempDir dir;
    auto child = run_traced_child(dir, [] {
      lockgraph::mutex m("M");
      std::vector<lockgraph::thread> threads;
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&m] {
          for (int i = 0; i < 3000; ++i) {  // 6,000 records of 16 bytes: several chunks each
            m.lock();
            m.unlock();
          }
        });
      }
      for (auto& t : threads) t.join();
      return 0;
    });
    ASSERT_EQ(child.exit_code(), 0);
    const std::string bytes = read_file(child.trace);
    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    std::size_t chunks = 0;
    for_each_chunk(bytes, [&](std::size_t, const format::ChunkHeader& h) {
      ++chunks;
      EXPECT_TRUE(seen.emplace(h.thread, h.index).second)
          << "run " << run << ": chunk " << h.index << " of thread " << h.thread << " twice";
    });
    EXPECT_GT(chunks, 8u * 5);
    analysis::Problem err;
    auto f = analysis::TraceFile::open(child.trace, &err);
    ASSERT_TRUE(f) << err.message();
    EXPECT_TRUE(f->has_trailer());
    EXPECT_TRUE(f->problems().empty());
  }
}

}  // namespace
}  // namespace lockgraph::testing
