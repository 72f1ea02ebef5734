// Generates a real trace of about N events (argv[1], default 10^6) for the analyzer benchmark:
// 4 threads, 64 locks taken in a consistent nested order, shared variables accessed under them.
#include <cstdio>
#include <cstdlib>
#include <lockgraph/lockgraph.hpp>
#include <memory>
#include <vector>

int main(int argc, char** argv) {
  long events = argc > 1 ? std::atol(argv[1]) : 1000000;
  constexpr int kThreads = 4, kLocks = 64, kVars = 4096;
  std::vector<std::unique_ptr<lockgraph::mutex>> locks;
  for (int i = 0; i < kLocks; ++i) locks.push_back(std::make_unique<lockgraph::mutex>());
  static int vars[kVars];
  // Each iteration records 2 acquisitions, 2 releases and 2 writes = 6 events.
  long iterations = events / 6 / kThreads;
  std::vector<lockgraph::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (long i = 0; i < iterations; ++i) {
        int a = int((i * 7 + t) % (kLocks - 1));
        int b = a + 1 + int(i % (kLocks - 1 - a));
        std::lock_guard<lockgraph::mutex> ga(*locks[std::size_t(a)]);
        std::lock_guard<lockgraph::mutex> gb(*locks[std::size_t(b)]);
        LG_WRITE(&vars[(i * 13 + b) % kVars], sizeof(int));
        LG_WRITE(&vars[(i * 29 + a) % kVars], sizeof(int));
      }
    });
  }
  for (auto& t : ts) t.join();
  std::printf("%ld events requested\n", events);
  return 0;
}
