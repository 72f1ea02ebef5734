// A shared counter incremented by 4 threads, unlocked (argv[1] == "race") or under a mutex.
#include <cstring>
#include <lockgraph/lockgraph.hpp>
#include <vector>

lockgraph::mutex counter_lock("counter_lock");
lockgraph::shared<long> counter{0, "counter"};

int main(int argc, char** argv) {
  bool race = argc > 1 && std::strcmp(argv[1], "race") == 0;
  std::vector<lockgraph::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([race] {
      for (int i = 0; i < 100; ++i) {
        if (race) {
          counter.set(counter.get() + 1);  // line 16
        } else {
          std::lock_guard<lockgraph::mutex> g(counter_lock);
          counter.set(counter.get() + 1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return counter.get() == 400 || race ? 0 : 1;
}
