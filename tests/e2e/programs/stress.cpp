// Stress shapes where other tools have limits (issue "hardening"): ThreadSanitizer aborts past
// 64-128 mutexes held by one thread and flushes its graph at 4,096 locks; Helgrind prints only
// two-lock cycles. Each mode records everything and must be analyzed exactly:
//   stress hold N      one thread holds N locks at once (then a second thread, after it)
//   stress locks N     N distinct locks, each taken by two threads; the last two in opposite
//                      orders (staggered): exactly one potential deadlock among N locks
//   stress threads N   N threads alive at once, each increments a counter under one mutex
//   stress cycle N     N threads, thread i takes L[i] then L[i+1 mod N], staggered: one N-lock cycle
//   stress short N     N short-lived threads, 4 at a time, each increments the locked counter
//   stress recurse N   a recursive mutex re-entered N deep by two threads, one after the other
// Threads are staggered through pipes: real order, invisible to lockgraph, no sleeping.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <lockgraph/lockgraph.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../../unmodified/programs/baton.hpp"

namespace {


lockgraph::mutex counter_lock("counter_lock");
long counter = 0;

void count() {
  std::lock_guard<lockgraph::mutex> g(counter_lock);
  ++counter;
}

std::vector<std::unique_ptr<lockgraph::mutex>> make_locks(int n) {
  static std::vector<std::string> names;  // the wrappers keep the pointer
  names.reserve(std::size_t(n));
  std::vector<std::unique_ptr<lockgraph::mutex>> locks;
  for (int i = 0; i < n; ++i) {
    names.push_back("L" + std::to_string(i));
    locks.push_back(std::make_unique<lockgraph::mutex>(names.back().c_str()));
  }
  return locks;
}

int hold(int n) {
  auto locks = make_locks(n);
  auto take_all = [&] {
    for (auto& l : locks) l->lock();
    for (auto it = locks.rbegin(); it != locks.rend(); ++it) (*it)->unlock();
  };
  lockgraph::thread first(take_all);
  first.join();
  lockgraph::thread second(take_all);
  second.join();
  return 0;
}

int many_locks(int n) {
  auto locks = make_locks(n);
  Baton baton;
  lockgraph::thread one([&] {
    for (auto& l : locks) std::lock_guard<lockgraph::mutex> g(*l);
    std::lock_guard<lockgraph::mutex> a(*locks[std::size_t(n - 2)]);
    std::lock_guard<lockgraph::mutex> b(*locks[std::size_t(n - 1)]);  // L[n-2] -> L[n-1]
    baton.pass();
  });
  lockgraph::thread two([&] {
    baton.wait();
    for (auto& l : locks) std::lock_guard<lockgraph::mutex> g(*l);
    std::lock_guard<lockgraph::mutex> b(*locks[std::size_t(n - 1)]);
    std::lock_guard<lockgraph::mutex> a(*locks[std::size_t(n - 2)]);  // L[n-1] -> L[n-2]
  });
  one.join();
  two.join();
  return 0;
}

int many_threads(int n) {
  std::latch all_alive(n);  // not recorded: it orders nothing lockgraph must see
  std::vector<lockgraph::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&] {
      all_alive.arrive_and_wait();
      count();
    });
  }
  for (auto& t : threads) t.join();
  return counter == n ? 0 : 1;
}

int cycle(int n) {
  auto locks = make_locks(n);
  std::vector<Baton> batons(std::size_t(n) + 1);  // n + 1 pipes
  std::vector<lockgraph::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      if (i > 0) batons[std::size_t(i)].wait();
      std::lock_guard<lockgraph::mutex> first(*locks[std::size_t(i)]);
      std::lock_guard<lockgraph::mutex> second(*locks[std::size_t((i + 1) % n)]);
      batons[std::size_t(i) + 1].pass();
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}

int short_lived(int n) {
  for (int i = 0; i < n; i += 4) {
    std::vector<lockgraph::thread> batch;
    for (int k = 0; k < 4 && i + k < n; ++k) batch.emplace_back(count);
    for (auto& t : batch) t.join();
  }
  return counter == n ? 0 : 1;
}

lockgraph::recursive_mutex deep("deep");

void descend(int depth) {
  deep.lock();
  if (depth > 1) descend(depth - 1);
  deep.unlock();
}

int recurse(int n) {
  lockgraph::thread first([n] { descend(n); });
  first.join();
  lockgraph::thread second([n] { descend(n); });
  second.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: stress hold|locks|threads|cycle|short|recurse N\n");
    return 2;
  }
  int n = std::atoi(argv[2]);
  std::string mode = argv[1];
  if (mode == "hold") return hold(n);
  if (mode == "locks") return many_locks(n);
  if (mode == "threads") return many_threads(n);
  if (mode == "cycle") return cycle(n);
  if (mode == "short") return short_lived(n);
  if (mode == "recurse") return recurse(n);
  std::fprintf(stderr, "stress: unknown mode %s\n", argv[1]);
  return 2;
}
