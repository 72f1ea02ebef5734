// Correctly synchronized programs (std:: and pthread only), built with the instrumentation and
// run under `lockgraph run`: every one must give no finding at all. Each shares plain data
// between threads through one kind of synchronization.
#include <pthread.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <future>
#include <latch>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "scenarios.hpp"

namespace {

void mutex_counter() {
  std::mutex m;
  long n = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) {
        std::lock_guard<std::mutex> g(m);
        ++n;
      }
    });
  }
  for (auto& t : ts) t.join();
  std::printf("%ld\n", n);
}

void atomics() {
  std::atomic<long> hits{0};
  std::atomic<bool> ready{false};
  int data = 0;
  std::thread producer([&] {
    hits.fetch_add(1);
    data = 7;
    ready.store(true, std::memory_order_release);
  });
  std::thread counter([&] { hits.fetch_add(1); });
  while (!ready.load(std::memory_order_acquire)) {
  }
  std::printf("%d\n", data);
  producer.join();
  counter.join();
}

void cv_handoff() {
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  std::vector<int> items;
  std::thread producer([&] {
    std::vector<int> made = {1, 2, 3};
    {
      std::lock_guard<std::mutex> g(m);
      items = made;
      ready = true;
    }
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lk(m);
  cv.wait(lk, [&] { return ready; });
  std::printf("%zu\n", items.size());
  lk.unlock();
  producer.join();
}

void semaphore_handoff() {
  std::binary_semaphore filled(0);
  int slot = 0;
  std::thread producer([&] {
    slot = 99;
    filled.release();
  });
  filled.acquire();
  std::printf("%d\n", slot);
  producer.join();
}

void barrier_phases() {
  constexpr int kThreads = 3;
  int cells[kThreads] = {};
  int sums[kThreads] = {};
  pthread_barrier_t b;
  pthread_barrier_init(&b, nullptr, kThreads);
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i) {
    ts.emplace_back([&, i] {
      cells[i] = i + 1;  // phase 1: each writes its own cell
      pthread_barrier_wait(&b);
      for (int j = 0; j < kThreads; ++j) sums[i] += cells[j];  // phase 2: all read all
      pthread_barrier_wait(&b);
      cells[i] = 0;  // phase 3: writes again, after everyone's reads
    });
  }
  for (auto& t : ts) t.join();
  pthread_barrier_destroy(&b);
  std::printf("%d\n", sums[0]);
}

// C++20 std::latch and std::barrier are built on atomics (and futex waits): lockgraph must see
// their release/acquire ordering through the instrumented atomics alone.
void latch_and_barrier() {
  constexpr int kThreads = 3;
  int slots[kThreads] = {};
  int seen[kThreads] = {};
  std::barrier phase(kThreads);
  std::latch done(kThreads);
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i) {
    ts.emplace_back([&, i] {
      slots[i] = i + 1;
      phase.arrive_and_wait();
      for (int j = 0; j < kThreads; ++j) seen[i] += slots[j];
      done.count_down();
    });
  }
  done.wait();
  int total = seen[0] + seen[1] + seen[2];  // read before the joins: ordered by the latch only
  for (auto& t : ts) t.join();
  std::printf("%d\n", total);
}

void fork_join() {
  int result = 0;
  std::thread t([&] { result = 42; });
  t.join();
  result += 1;
  std::thread u([&] { result *= 2; });
  u.join();
  std::printf("%d\n", result);
}

void async_results() {
  std::vector<int> input = {1, 2, 3, 4};
  auto f = std::async(std::launch::async, [&] {
    int s = 0;
    for (int v : input) s += v;
    return s;
  });
  int s = f.get();
  input.clear();  // after get(): the task is over
  std::printf("%d\n", s);
}

void scoped_lock_two() {
  std::mutex a, b;
  int shared = 0;
  std::thread t([&] {
    for (int i = 0; i < 200; ++i) {
      std::scoped_lock g(a, b);
      ++shared;
    }
  });
  for (int i = 0; i < 200; ++i) {
    std::scoped_lock g(b, a);
    ++shared;
  }
  t.join();
  std::printf("%d\n", shared);
}

void philosophers_ordered() {
  constexpr int kN = 5;
  std::mutex forks[kN];
  int meals[kN] = {};
  std::vector<std::thread> ts;
  for (int i = 0; i < kN; ++i) {
    ts.emplace_back([&, i] {
      int left = i, right = (i + 1) % kN;
      int first = left < right ? left : right, second = left < right ? right : left;
      for (int k = 0; k < 20; ++k) {
        std::lock_guard<std::mutex> g1(forks[first]);
        std::lock_guard<std::mutex> g2(forks[second]);
        ++meals[i];
      }
    });
  }
  for (auto& t : ts) t.join();
  std::printf("%d\n", meals[0]);
}

}  // namespace

int main(int argc, char** argv) {
  return run_scenario(argc, argv,
                      {{"mutex_counter", mutex_counter}, {"atomics", atomics}, {"cv_handoff", cv_handoff},
                       {"semaphore", semaphore_handoff}, {"barrier", barrier_phases},
                       {"latch_barrier", latch_and_barrier}, {"fork_join", fork_join}, {"async", async_results},
                       {"scoped_lock", scoped_lock_two}, {"philosophers_ordered", philosophers_ordered}});
}
