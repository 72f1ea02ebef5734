// A lock-heavy program with no lockgraph headers, for bench/overhead.sh: THREADS threads each do
// ITERATIONS critical sections on one of 16 std::mutex (chosen by a per-thread LCG), updating a
// small shared table; WORK extra arithmetic steps per iteration outside the lock model
// the program's own work. Prints a checksum so nothing is optimized away.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  long iterations = argc > 2 ? std::atol(argv[2]) : 2000000;
  int work = argc > 3 ? std::atoi(argv[3]) : 50;
  std::mutex locks[16];
  long table[16] = {};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      unsigned x = 12345u + unsigned(t) * 7919u;
      unsigned long acc = 0;
      for (long i = 0; i < iterations; ++i) {
        x = x * 1664525u + 1013904223u;
        for (int w = 0; w < work; ++w) acc = acc * 31 + (x >> (w & 15));
        std::lock_guard<std::mutex> g(locks[x >> 28]);
        table[x >> 28] += long(acc & 7);
      }
    });
  }
  for (auto& t : ts) t.join();
  long sum = 0;
  for (long v : table) sum += v;
  std::printf("%ld\n", sum);
  return 0;
}
