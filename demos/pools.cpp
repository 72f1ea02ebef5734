// pools — the lecture's ThreadPoolExecutor: a pool of 5 workers, submit, result(), done callbacks
// and shutdown(wait=true).
//
//   --mode results (default): submits n*(n+1) for n = 0..4 and prints [0, 2, 6, 12, 20]; clean.
//   --mode starvation: every task submits a follow-up task to the same full pool and waits for its
//       result. All workers wait for tasks queued behind them: a real hang, which lockgraph's
//       watchdog reports as deadlock_actual naming the pool, and stops.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <latch>
#include <lockgraph/lockgraph.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"The lecture's thread pool: submit, result, done callback, shutdown."};
  std::string mode = "results";
  app.add_option("--mode", mode, "results (clean) | starvation (hangs; the watchdog stops it)")
      ->check(CLI::IsMember({"results", "starvation"}));
  app.footer("Expected: results prints [0, 2, 6, 12, 20] and lockgraph reports nothing;\n"
             "starvation exits with status 86 and lockgraph reports deadlock_actual on pool \"pool\".");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  lockgraph::thread_pool pool(5, "pool");
  if (mode == "results") {
    lockgraph::mutex print_lock("print_lock");
    std::vector<lockgraph::future<int>> futures;
    for (int n = 0; n < 5; ++n) futures.push_back(pool.submit([](int x) { return x * (x + 1); }, n));
    for (auto& f : futures) {
      f.add_done_callback([&](const lockgraph::future<int>& done) {
        std::lock_guard<lockgraph::mutex> g(print_lock);
        std::printf("callback: task %llu done\n", static_cast<unsigned long long>(done.task_id()));
      });
    }
    std::vector<int> results;
    for (auto& f : futures) results.push_back(f.result());
    std::string line = "[";
    for (std::size_t i = 0; i < results.size(); ++i) line += (i ? ", " : "") + std::to_string(results[i]);
    std::printf("results: %s]\n", line.c_str());
    pool.shutdown(true);
    return 0;
  }
  // Starvation: 5 outer tasks occupy all 5 workers; each waits for an inner task that can only
  // run on a free worker. The latch makes sure all 5 workers are busy before any inner task.
  std::latch all_busy(5);
  std::vector<lockgraph::future<int>> outer;
  for (int n = 0; n < 5; ++n) {
    outer.push_back(pool.submit([&pool, &all_busy](int x) {
      all_busy.arrive_and_wait();
      auto inner = pool.submit([](int y) { return y + 1; }, x);
      return inner.result();  // waits for a task queued behind itself
    }, n));
  }
  for (auto& f : outer) std::printf("%d\n", f.result());
  return 0;
}
