// event — the lecture's traffic light: a light thread turns green (event.set()) and red
// (event.clear()) in cycles; cars wait for green (event.wait()); police cars wait at most a short
// time (event.wait(timeout)) and go anyway. The lecture's endless light runs --cycles times here.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <lockgraph/lockgraph.hpp>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Traffic light with an event: cars wait for green, police cars wait with a timeout."};
  int cycles = 3, cars = 6, police = 2, phase_ms = 20;
  app.add_option("--cycles", cycles, "Red/green cycles of the light")->check(CLI::Range(1, 1000));
  app.add_option("--cars", cars, "Cars (wait for green)")->check(CLI::Range(0, 1000));
  app.add_option("--police", police, "Police cars (wait at most one phase, then go)")->check(CLI::Range(0, 1000));
  app.add_option("--phase-ms", phase_ms, "Length of a red or green phase")->check(CLI::Range(1, 10000));
  app.footer("Expected: every car passes on green, police cars pass on green or after their timeout;\n"
             "lockgraph reports nothing.");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  lockgraph::event green("green");
  lockgraph::mutex print_lock("print_lock");
  auto say = [&](const char* fmt, int id) {
    std::lock_guard<lockgraph::mutex> g(print_lock);
    std::printf(fmt, id);
  };
  lockgraph::thread light([&] {
    for (int c = 0; c < cycles; ++c) {
      green.clear();
      say("light: red (cycle %d)\n", c + 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms));
      green.set();
      say("light: green (cycle %d)\n", c + 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms));
    }
    green.set();  // the light stays green when it stops, so no car waits forever
  });
  std::vector<lockgraph::thread> traffic;
  for (int i = 0; i < cars; ++i) {
    traffic.emplace_back([&, i] {
      green.wait();
      say("car %d passes on green\n", i);
    });
  }
  for (int i = 0; i < police; ++i) {
    traffic.emplace_back([&, i] {
      if (green.wait(std::chrono::milliseconds(phase_ms / 2))) {
        say("police car %d passes on green\n", i);
      } else {
        say("police car %d does not wait any longer and passes\n", i);
      }
    });
  }
  for (auto& t : traffic) t.join();
  light.join();
  return 0;
}
