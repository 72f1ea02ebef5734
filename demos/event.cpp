// event — the lecture's traffic light: a light thread turns green (event.set()) and red
// (event.clear()) in cycles; cars wait for green (event.wait()); police cars wait at most a short
// time (event.wait(timeout)) and go anyway. The lecture's endless light runs --cycles times here.
// --processes runs the light and every car as fork()ed processes sharing a process-shared event.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <lockgraph/lockgraph.hpp>
#include <functional>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Traffic light with an event: cars wait for green, police cars wait with a timeout."};
  int cycles = 3, cars = 6, police = 2, phase_ms = 20;
  app.add_option("--cycles", cycles, "Red/green cycles of the light")->check(CLI::Range(1, 1000));
  app.add_option("--cars", cars, "Cars (wait for green)")->check(CLI::Range(0, 1000));
  app.add_option("--police", police, "Police cars (wait at most one phase, then go)")->check(CLI::Range(0, 1000));
  app.add_option("--phase-ms", phase_ms, "Length of a red or green phase")->check(CLI::Range(1, 10000));
  bool processes = false;
  app.add_flag("--processes", processes, "The light and each car are fork()ed processes (process-shared event)");
  app.footer("Expected: every car passes on green, police cars pass on green or after their timeout;\n"
             "lockgraph reports nothing.");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  auto* green = processes ? lockgraph::make_process_shared<lockgraph::event>(lockgraph::process_shared, "green")
                         : new lockgraph::event("green");
  auto* print_lock = processes ? lockgraph::make_process_shared<lockgraph::mutex>(lockgraph::process_shared, "print_lock")
                               : new lockgraph::mutex("print_lock");
  auto say = [&](const char* fmt, int id) {
    std::lock_guard<lockgraph::mutex> g(*print_lock);
    std::printf(fmt, id);
    std::fflush(stdout);
  };
  std::vector<std::function<void()>> actors;
  actors.push_back([&] {
    for (int c = 0; c < cycles; ++c) {
      green->clear();
      say("light: red (cycle %d)\n", c + 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms));
      green->set();
      say("light: green (cycle %d)\n", c + 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(phase_ms));
    }
    green->set();  // the light stays green when it stops, so no car waits forever
  });
  for (int i = 0; i < cars; ++i) {
    actors.push_back([&, i] {
      green->wait();
      say("car %d passes on green\n", i);
    });
  }
  for (int i = 0; i < police; ++i) {
    actors.push_back([&, i] {
      if (green->wait(std::chrono::milliseconds(phase_ms / 2))) {
        say("police car %d passes on green\n", i);
      } else {
        say("police car %d does not wait any longer and passes\n", i);
      }
    });
  }
  if (processes) {
    std::vector<pid_t> children;
    for (auto& act : actors) {
      pid_t pid = fork();
      if (pid == 0) {
        act();
        std::exit(0);
      }
      children.push_back(pid);
    }
    for (pid_t c : children) waitpid(c, nullptr, 0);
    lockgraph::destroy_process_shared(green);
    lockgraph::destroy_process_shared(print_lock);
  } else {
    std::vector<lockgraph::thread> ts;
    for (auto& act : actors) ts.emplace_back(act);
    for (auto& t : ts) t.join();
    delete green;
    delete print_lock;
  }
  return 0;
}
