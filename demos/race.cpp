// race — the lecture's "money" program: money = 99, 100 threads each read it, pause, and write it
// minus one. Without a lock the result is wrong; with lock()/unlock() or a scoped guard it is -1.
//
// To make the lost updates certain rather than likely, the unlocked mode lets every thread read
// before any thread writes (an untraced std::latch stands in for the lecture's sleep).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <latch>
#include <lockgraph/lockgraph.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"The lecture's race: 100 threads each do `money = money - 1` on money = 99."};
  std::string mode = "unlocked";
  int threads = 100;
  app.add_option("--mode", mode, "unlocked (races, wrong result) | lock (lock()/unlock()) | guard (std::lock_guard)")
      ->check(CLI::IsMember({"unlocked", "lock", "guard"}));
  app.add_option("--threads", threads, "Number of threads")->check(CLI::Range(2, 1000));
  app.footer("Expected: unlocked prints a wrong final value and lockgraph reports data_race on money;\n"
             "lock and guard print -1 and lockgraph reports nothing.");
  CLI11_PARSE(app, argc, argv);

  lockgraph::shared<int> money{threads - 1, "money"};
  lockgraph::mutex money_lock("money_lock");
  std::latch everyone_read(threads);
  std::vector<lockgraph::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      if (mode == "unlocked") {
        int m = money.get();  // read
        everyone_read.arrive_and_wait();
        money.set(m - 1);     // write: every thread writes 98
      } else if (mode == "lock") {
        money_lock.lock();
        int m = money.get();
        money.set(m - 1);
        money_lock.unlock();
      } else {
        std::lock_guard<lockgraph::mutex> guard(money_lock);
        int m = money.get();
        money.set(m - 1);
      }
    });
  }
  for (auto& w : workers) w.join();
  std::printf("final money = %d (correct: -1)\n", money.get());
  return 0;
}
