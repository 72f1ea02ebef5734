// semaphore — the lecture's 30 users sharing 3 stalls: a counting_semaphore(3) lets at most three
// users in at a time; each stays 1-3 time units (milliseconds here, so the demo is quick).
// The demo checks the invariant itself (never more than 3 inside) and lockgraph reports nothing.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <lockgraph/lockgraph.hpp>
#include <random>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"30 users, 3 stalls: a counting semaphore limits how many are inside."};
  int users = 30, stalls = 3, unit_ms = 1;
  unsigned seed = 1;
  app.add_option("--users", users, "Number of users (threads)")->check(CLI::Range(1, 1000));
  app.add_option("--stalls", stalls, "Stalls (the semaphore's count)")->check(CLI::Range(1, 100));
  app.add_option("--unit-ms", unit_ms, "One unit of use, in milliseconds")->check(CLI::Range(0, 1000));
  app.add_option("--seed", seed, "Random seed for the 1-3 units each user stays");
  app.footer("Expected: `max inside = 3` (never more than --stalls) and no lockgraph findings.");
  CLI11_PARSE(app, argc, argv);

  lockgraph::counting_semaphore<> stall(stalls, "stalls");
  lockgraph::mutex stats_lock("stats_lock");
  std::atomic<int> inside{0};
  int max_inside = 0;
  std::vector<lockgraph::thread> ts;
  for (int u = 0; u < users; ++u) {
    ts.emplace_back([&, u] {
      std::mt19937 rng(seed + unsigned(u));
      int units = 1 + int(rng() % 3);
      stall.acquire();
      int now = inside.fetch_add(1) + 1;
      {
        std::lock_guard<lockgraph::mutex> g(stats_lock);
        max_inside = std::max(max_inside, now);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(units * unit_ms));
      inside.fetch_sub(1);
      stall.release();
    });
  }
  for (auto& t : ts) t.join();
  std::printf("users = %d, stalls = %d, max inside = %d\n", users, stalls, max_inside);
  return max_inside <= stalls ? 0 : 1;
}
