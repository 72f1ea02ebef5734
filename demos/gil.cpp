// gil — the lecture's GIL comparison: CPU-bound work (products of big-number factorials) and
// IO-bound work (sleeps), run sequentially, with threads and with processes, timed in a table.
// C++ has no global interpreter lock, so the demo also runs the threads with one: a global
// lockgraph::mutex "GIL" held while computing and released every --switch-ms (like CPython's
// switch interval) and around sleeps. `lockgraph stats` then shows the GIL held nearly all of
// the run and the threads serialized behind it.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <lockgraph/lockgraph.hpp>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

lockgraph::mutex gil("GIL");

struct Options {
  int tasks = 4;
  int factorial = 15000;
  int io_ms = 100;
  int switch_ms = 5;
};

// Multiplies a base-1e9 big number by a small factor.
void multiply(std::vector<std::uint32_t>& n, std::uint32_t f) {
  std::uint64_t carry = 0;
  for (auto& d : n) {
    std::uint64_t x = std::uint64_t(d) * f + carry;
    d = std::uint32_t(x % 1000000000u);
    carry = x / 1000000000u;
  }
  while (carry) {
    n.push_back(std::uint32_t(carry % 1000000000u));
    carry /= 1000000000u;
  }
}

// factorial(k) digit count; with_gil: hold the GIL while computing, yielding it every switch_ms.
std::size_t cpu_task(const Options& o, bool with_gil) {
  std::vector<std::uint32_t> n{1};
  auto slice_start = std::chrono::steady_clock::now();
  if (with_gil) gil.lock();
  for (int k = 2; k <= o.factorial; ++k) {
    multiply(n, std::uint32_t(k));
    if (with_gil && std::chrono::steady_clock::now() - slice_start > std::chrono::milliseconds(o.switch_ms)) {
      gil.unlock();  // the switch interval: let another thread run
      gil.lock();
      slice_start = std::chrono::steady_clock::now();
    }
  }
  if (with_gil) gil.unlock();
  return n.size();
}

void io_task(const Options& o, bool with_gil) {
  // Python releases the GIL around blocking IO; so does this.
  if (with_gil) {
    gil.lock();
    gil.unlock();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(o.io_ms));
}

double seconds_of(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double run_threads(const Options& o, const std::function<void()>& task) {
  return seconds_of([&] {
    std::vector<lockgraph::thread> ts;
    for (int i = 0; i < o.tasks; ++i) ts.emplace_back(task);
    for (auto& t : ts) t.join();
  });
}

double run_processes(const Options& o, const std::function<void()>& task) {
  return seconds_of([&] {
    std::vector<pid_t> children;
    std::fflush(stdout);  // a child must not print the parent's buffered output again
    for (int i = 0; i < o.tasks; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        task();
        std::exit(0);
      }
      children.push_back(pid);
    }
    for (pid_t c : children) waitpid(c, nullptr, 0);
  });
}

double run_sequential(const Options& o, const std::function<void()>& task) {
  return seconds_of([&] {
    for (int i = 0; i < o.tasks; ++i) task();
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The lecture's GIL comparison: CPU-bound vs IO-bound work, threads vs processes."};
  Options o;
  std::string mode = "table";
  app.add_option("--mode", mode,
                 "table: the timing table (all variants); gil-threads: only CPU work on threads under the GIL "
                 "(for `lockgraph stats`)")
      ->check(CLI::IsMember({"table", "gil-threads"}));
  app.add_option("--tasks", o.tasks, "Tasks per variant")->check(CLI::Range(1, 64));
  app.add_option("--factorial", o.factorial, "CPU task: compute this factorial")->check(CLI::Range(10, 100000));
  app.add_option("--io-ms", o.io_ms, "IO task: sleep this long")->check(CLI::Range(0, 10000));
  app.add_option("--switch-ms", o.switch_ms, "GIL switch interval")->check(CLI::Range(1, 1000));
  app.footer("Expected: CPU work with threads under the GIL takes about as long as sequential; without it and\n"
             "with processes it runs in parallel (on several cores); IO work overlaps in every concurrent variant.\n"
             "`lockgraph stats` on a gil-threads trace shows GIL held for most of the run. No findings.");
  CLI11_PARSE(app, argc, argv);

  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  auto cpu_gil = [&] { cpu_task(o, true); };
  auto cpu = [&] { cpu_task(o, false); };
  auto io_gil = [&] { io_task(o, true); };
  auto io = [&] { io_task(o, false); };
  if (mode == "gil-threads") {
    std::printf("cpu, threads with GIL: %.3f s\n", run_threads(o, cpu_gil));
    return 0;
  }
  std::printf("%d tasks each; %u hardware threads\n", o.tasks, std::thread::hardware_concurrency());
  std::printf("%-10s %12s %16s %16s %12s\n", "work", "sequential", "threads (GIL)", "threads (no GIL)", "processes");
  std::printf("%-10s %11.3fs %15.3fs %15.3fs %11.3fs\n", "cpu", run_sequential(o, cpu), run_threads(o, cpu_gil),
              run_threads(o, cpu), run_processes(o, cpu));
  std::printf("%-10s %11.3fs %15.3fs %15.3fs %11.3fs\n", "io", run_sequential(o, io), run_threads(o, io_gil),
              run_threads(o, io), run_processes(o, io));
  return 0;
}
