// The wrappers behave exactly as the std types they replace, and record what they did.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <vector>

#include "lockgraph/lockgraph.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using namespace std::chrono_literals;
using format::Kind;

// Runs f on another lockgraph::thread and returns its result.
template <class F>
auto on_other_thread(F f) {
  decltype(f()) r{};
  lockgraph::thread t([&] { r = f(); });
  t.join();
  return r;
}

TEST(Mutex, TryLockFailsWhileHeldElsewhereAndSucceedsWhenFree) {
  lockgraph::mutex m;
  EXPECT_TRUE(m.try_lock());
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock(); }));
  m.unlock();
  EXPECT_TRUE(on_other_thread([&] {
    bool ok = m.try_lock();
    if (ok) m.unlock();
    return ok;
  }));
}

TEST(TimedMutex, TryLockForTimesOutWhenHeldAndSucceedsWhenFree) {
  lockgraph::timed_mutex m;
  m.lock();
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock_for(30ms); }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock_until(std::chrono::system_clock::now() + 10ms); }));
  m.unlock();
  EXPECT_TRUE(on_other_thread([&] {
    bool ok = m.try_lock_for(1s);
    if (ok) m.unlock();
    return ok;
  }));
}

TEST(RecursiveMutex, CountsRecursionLikeStd) {
  lockgraph::recursive_mutex m;
  m.lock();
  m.lock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
  m.unlock();
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock(); }));  // still held once
  m.unlock();
  EXPECT_TRUE(on_other_thread([&] {
    bool ok = m.try_lock();
    if (ok) m.unlock();
    return ok;
  }));
}

TEST(RecursiveTimedMutex, TimedReentry) {
  lockgraph::recursive_timed_mutex m;
  m.lock();
  EXPECT_TRUE(m.try_lock_for(1ms));
  m.unlock();
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock_for(10ms); }));
  m.unlock();
}

TEST(SharedMutex, ReadersShareWritersExclude) {
  lockgraph::shared_mutex m;
  m.lock_shared();
  EXPECT_TRUE(on_other_thread([&] {
    bool ok = m.try_lock_shared();
    if (ok) m.unlock_shared();
    return ok;
  }));
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock(); }));
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock_for(10ms); }));
  m.unlock_shared();
  m.lock();
  EXPECT_FALSE(on_other_thread([&] { return m.try_lock_shared(); }));
  m.unlock();
  std::shared_lock<lockgraph::shared_mutex> r(m);
  EXPECT_TRUE(r.owns_lock());
}

TEST(LockGuards, UniqueLockScopedLockAndMoves) {
  lockgraph::mutex a, b;
  {
    std::scoped_lock both(a, b);
    EXPECT_FALSE(on_other_thread([&] { return a.try_lock(); }));
    EXPECT_FALSE(on_other_thread([&] { return b.try_lock(); }));
  }
  std::unique_lock<lockgraph::mutex> l(a, std::defer_lock);
  EXPECT_FALSE(l.owns_lock());
  l.lock();
  EXPECT_TRUE(l.owns_lock());
  std::unique_lock<lockgraph::mutex> moved(std::move(l));
  EXPECT_FALSE(l.owns_lock());
  EXPECT_TRUE(moved.owns_lock());
  moved.unlock();
  std::unique_lock<lockgraph::mutex> t(a, std::try_to_lock);
  EXPECT_TRUE(t.owns_lock());
  EXPECT_THROW(t.lock(), std::system_error);  // already owned, as std
}

TEST(Semaphore, CountsLikeStd) {
  lockgraph::counting_semaphore<3> s(3);
  EXPECT_EQ(s.max(), 3);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(s.try_acquire_for(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  s.release(2);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire_until(std::chrono::steady_clock::now() + 1s));
  EXPECT_FALSE(s.try_acquire());
  // A blocked acquire is released by another thread's release.
  std::latch ready(1);
  lockgraph::thread releaser([&] {
    ready.wait();
    s.release();
  });
  ready.count_down();
  s.acquire();
  releaser.join();
  EXPECT_EQ(s.value_for_testing(), 0);
  lockgraph::binary_semaphore bin(0);
  EXPECT_FALSE(bin.try_acquire());
  bin.release();
  EXPECT_TRUE(bin.try_acquire());
}

TEST(Event, PythonSemantics) {
  lockgraph::event e("light");
  EXPECT_FALSE(e.is_set());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.wait(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  e.set();
  EXPECT_TRUE(e.is_set());
  EXPECT_TRUE(e.wait(0ms));
  e.wait();
  e.clear();
  EXPECT_FALSE(e.is_set());
  std::latch waiting(1);
  lockgraph::thread setter([&] {
    waiting.wait();
    e.set();
  });
  waiting.count_down();
  EXPECT_TRUE(e.wait(10s));
  setter.join();
}

TEST(ConditionVariable, HandOffAndTimeout) {
  lockgraph::mutex m;
  lockgraph::condition_variable cv;
  int value = 0;
  lockgraph::thread producer([&] {
    std::lock_guard<lockgraph::mutex> g(m);
    value = 42;
    cv.notify_one();
  });
  {
    std::unique_lock<lockgraph::mutex> lk(m);
    cv.wait(lk, [&] { return value == 42; });
    EXPECT_TRUE(lk.owns_lock());
  }
  producer.join();
  std::unique_lock<lockgraph::mutex> lk(m);
  EXPECT_EQ(cv.wait_for(lk, 10ms), std::cv_status::timeout);
  EXPECT_TRUE(lk.owns_lock());
  EXPECT_FALSE(cv.wait_for(lk, 10ms, [] { return false; }));
  EXPECT_TRUE(cv.wait_until(lk, std::chrono::steady_clock::now() + 10ms, [] { return true; }));
}

TEST(ThreadPool, ResultsCallbacksAndShutdown) {
  lockgraph::thread_pool pool(5, "pool");
  std::vector<lockgraph::future<int>> futures;
  for (int i = 0; i < 5; ++i) futures.push_back(pool.submit([](int x) { return x * (x + 1); }, i));
  std::atomic<int> callbacks{0};
  for (auto& f : futures) f.add_done_callback([&](const lockgraph::future<int>&) { callbacks.fetch_add(1); });
  std::vector<int> results;
  for (auto& f : futures) results.push_back(f.get());
  EXPECT_EQ(results, (std::vector<int>{0, 2, 6, 12, 20}));
  auto failing = pool.submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(failing.get(), std::runtime_error);
  pool.shutdown(true);
  EXPECT_EQ(callbacks.load(), 5);  // each ran exactly once, before shutdown returned
  EXPECT_THROW(pool.submit([] { return 1; }), std::runtime_error);
}

TEST(Thread, JoinableAndIds) {
  std::atomic<bool> ran{false};
  lockgraph::thread t([&](int x) { ran = x == 7; }, 7);
  EXPECT_TRUE(t.joinable());
  EXPECT_NE(t.get_id(), std::this_thread::get_id());
  t.join();
  EXPECT_FALSE(t.joinable());
  EXPECT_TRUE(ran);
  EXPECT_THROW(t.join(), std::system_error);
}

// The records say what happened: try failures, recursion, shared mode, hand-offs.
TEST(Recording, FlagsAndHandOffsAreRecorded) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    lockgraph::recursive_mutex r("R");
    r.lock();
    r.lock();
    r.unlock();
    r.unlock();
    lockgraph::shared_mutex s("S");
    s.lock_shared();
    s.unlock_shared();
    lockgraph::mutex m("M");
    m.lock();
    lockgraph::thread t([&] { (void)m.try_lock(); });
    t.join();
    m.unlock();
    lockgraph::counting_semaphore<2> sem(0, "sem");
    sem.release();
    sem.acquire();
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  int recursive = 0, shared = 0, try_failed = 0, sem_rel = 0, sem_acq = 0;
  for (const auto& e : read_events(child.trace)) {
    if (e.kind == Kind::kLockAcquired && (e.flags & format::kAcqRecursive)) ++recursive;
    if (e.kind == Kind::kLockAcquired && (e.flags & format::kAcqShared)) ++shared;
    if (e.kind == Kind::kLockFailed && (e.flags & format::kAcqTry)) ++try_failed;
    if (e.kind == Kind::kSemRelease) {
      ++sem_rel;
      EXPECT_EQ(e.seq, 1u);
      EXPECT_EQ(e.value, 1u);
    }
    if (e.kind == Kind::kSemAcquired) {
      ++sem_acq;
      EXPECT_EQ(e.seq, 2u);
    }
  }
  EXPECT_EQ(recursive, 1);
  EXPECT_EQ(shared, 1);
  EXPECT_EQ(try_failed, 1);
  EXPECT_EQ(sem_rel, 1);
  EXPECT_EQ(sem_acq, 1);
}

}  // namespace
}  // namespace lockgraph::testing
