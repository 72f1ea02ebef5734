// deadlock — the lecture's thread class: func_one takes A then B; func_two takes B, pauses, then A.
// Five threads each run func_one then func_two.
//
//   --mode hang (default): a real AB/BA deadlock. lockgraph's watchdog sees the wait-for cycle,
//       writes deadlock_actual into the trace and ends the program within a second instead of
//       letting it hang. (The lecture's sleep is replaced by a latch, so it deadlocks every time.)
//   --mode staggered: the threads run one after another, so the run completes — and lockgraph
//       still reports deadlock_potential: nothing but luck kept them apart.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <latch>
#include <lockgraph/lockgraph.hpp>
#include <memory>
#include <string>
#include <vector>

lockgraph::mutex A("A");
lockgraph::mutex B("B");

// Hang mode made certain (untraced latches, so they add no happens-before): thread 2 starts once
// thread 1 holds B in func_two (starting it after thread 1's func_one let it take A and B before
// thread 1 took B: no deadlock, now and then); thread 1 then pauses, holding B, until thread 2
// holds A; threads 3-5 start once thread 2 holds A.
struct Ordering {
  bool hang = true;
  std::latch first_holds_b{1};
  std::latch second_holds_a{1};
};

void func_one(int id, Ordering& o) {
  A.lock();
  std::printf("worker %d got A\n", id);
  if (o.hang && id == 2) o.second_holds_a.count_down();
  B.lock();
  std::printf("worker %d got B\n", id);
  B.unlock();
  A.unlock();
}

void func_two(int id, Ordering& o) {
  B.lock();
  std::printf("worker %d got B\n", id);
  if (o.hang && id == 1) {
    o.first_holds_b.count_down();
    o.second_holds_a.wait();  // the lecture's sleep(1)
  }
  A.lock();
  std::printf("worker %d got A\n", id);
  A.unlock();
  B.unlock();
}

int main(int argc, char** argv) {
  CLI::App app{"The lecture's AB/BA deadlock with 5 threads."};
  std::string mode = "hang";
  app.add_option("--mode", mode, "hang (a real deadlock, stopped by the watchdog) | staggered (completes)")
      ->check(CLI::IsMember({"hang", "staggered"}));
  app.footer("Expected: hang exits with status 86 (watchdog) and lockgraph reports deadlock_actual;\n"
             "staggered completes and lockgraph reports deadlock_potential A -> B -> A.");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  Ordering o;
  o.hang = mode == "hang";
  constexpr int kThreads = 5;
  // Staggered: thread i starts when thread i-1 is done (an untraced latch: no happens-before).
  std::vector<std::unique_ptr<std::latch>> done;
  for (int i = 0; i < kThreads; ++i) done.push_back(std::make_unique<std::latch>(1));
  std::vector<lockgraph::thread> threads;
  for (int i = 1; i <= kThreads; ++i) {
    threads.emplace_back([&, i] {
      lockgraph::set_thread_name(("worker " + std::to_string(i)).c_str());
      if (!o.hang && i > 1) done[std::size_t(i - 2)]->wait();
      if (o.hang && i == 2) o.first_holds_b.wait();
      if (o.hang && i > 2) o.second_holds_a.wait();
      func_one(i, o);
      func_two(i, o);
      done[std::size_t(i - 1)]->count_down();
    });
  }
  for (auto& t : threads) t.join();
  std::printf("all threads finished\n");
  return 0;
}
