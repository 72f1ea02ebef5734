// semaphore — the lecture's 30 users sharing 3 stalls: a counting_semaphore(3) lets at most three
// users in at a time; each stays 1-3 time units (milliseconds here, so the demo is quick).
// The demo checks the invariant itself (never more than 3 inside) and lockgraph reports nothing.
// The first users in wait until the stalls are full before their time starts, so `max inside`
// is always the number of stalls (on a loaded machine, users of 1-3 ms could otherwise come and
// go one at a time, and the output would depend on the scheduler).
// --processes runs each user as a fork()ed process sharing a process-shared semaphore, as the
// lecture's multiprocessing version does (one trace file per process, analyzed together).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <lockgraph/lockgraph.hpp>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct Counters {  // in shared memory in process mode
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
};

void use_stall(lockgraph::counting_semaphore<>& stall, Counters& c, int full, int units, int unit_ms) {
  stall.acquire();
  int now = c.inside.fetch_add(1) + 1;
  int seen = c.max_inside.load();
  while (now > seen && !c.max_inside.compare_exchange_weak(seen, now)) {
  }
  // Nobody leaves before the stalls have been full once: the first `full` users get in (no one
  // releases before), so this wait always ends.
  while (c.max_inside.load() < full) std::this_thread::sleep_for(std::chrono::microseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(units * unit_ms));
  c.inside.fetch_sub(1);
  stall.release();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"30 users, 3 stalls: a counting semaphore limits how many are inside."};
  int users = 30, stalls = 3, unit_ms = 1;
  unsigned seed = 1;
  app.add_option("--users", users, "Number of users (threads)")->check(CLI::Range(1, 1000));
  app.add_option("--stalls", stalls, "Stalls (the semaphore's count)")->check(CLI::Range(1, 100));
  app.add_option("--unit-ms", unit_ms, "One unit of use, in milliseconds")->check(CLI::Range(0, 1000));
  app.add_option("--seed", seed, "Random seed for the 1-3 units each user stays");
  bool processes = false;
  app.add_flag("--processes", processes, "Each user is a fork()ed process (process-shared semaphore)");
  app.footer("Expected: `max inside = 3` (never more than --stalls) and no lockgraph findings,\n"
             "with threads and with --processes.");
  CLI11_PARSE(app, argc, argv);

  auto* stall = processes ? lockgraph::make_process_shared<lockgraph::counting_semaphore<>>(lockgraph::process_shared, stalls, "stalls")
                          : new lockgraph::counting_semaphore<>(stalls, "stalls");
  auto* counters = lockgraph::make_process_shared<Counters>();
  const int full = std::min(users, stalls);
  auto units_of = [&](int u) {
    std::mt19937 rng(seed + unsigned(u));
    return 1 + int(rng() % 3);
  };
  if (processes) {
    std::vector<pid_t> children;
    for (int u = 0; u < users; ++u) {
      pid_t pid = fork();
      if (pid == 0) {
        use_stall(*stall, *counters, full, units_of(u), unit_ms);
        std::exit(0);
      }
      children.push_back(pid);
    }
    for (pid_t c : children) waitpid(c, nullptr, 0);
  } else {
    std::vector<lockgraph::thread> ts;
    for (int u = 0; u < users; ++u) ts.emplace_back([&, u] { use_stall(*stall, *counters, full, units_of(u), unit_ms); });
    for (auto& t : ts) t.join();
  }
  int max_inside = counters->max_inside.load();
  std::printf("%s: users = %d, stalls = %d, max inside = %d\n", processes ? "processes" : "threads", users, stalls,
              max_inside);
  if (processes) {
    lockgraph::destroy_process_shared(stall);
  } else {
    delete stall;
  }
  lockgraph::destroy_process_shared(counters);
  return max_inside <= stalls ? 0 : 1;
}
