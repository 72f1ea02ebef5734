// Racy programs (std:: and pthread only), built with the compiler's ThreadSanitizer
// instrumentation on lockgraph's runtime and run under `lockgraph run`. Each scenario has exactly
// the races the test expects; `// @name` marks the lines the test looks for.
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "baton.hpp"
#include "scenarios.hpp"

namespace {

int counter = 0;
void unlocked_counter() {
  Baton first_done;
  std::thread t([&] {
    counter = counter + 1;  // @counter_thread
    first_done.pass();
  });
  first_done.wait();
  counter = counter + 1;  // @counter_main
  t.join();
}

// Plain (not atomic, not volatile): the opaque sched_yield() call makes the loop re-read it.
bool ready = false;
int payload = 0;
void flag_spin() {
  std::thread t([] {
    payload = 42;  // @payload_write
    ready = true;  // @ready_write
  });
  while (!ready) {  // @ready_read
    sched_yield();
  }
  std::printf("%d\n", payload);  // @payload_read
  t.join();
}

struct Config {
  int port = 0;
};
Config* published = nullptr;
void publish_without_sync() {
  std::thread t([] {
    Config* c = new Config;
    c->port = 8080;  // @port_write
    published = c;   // @publish_write
  });
  while (published == nullptr) {  // @publish_read
    sched_yield();
  }
  std::printf("%d\n", published->port);  // @port_read
  t.join();
  delete published;
}

std::mutex m1, m2;
long total = 0;
void different_locks() {
  Baton first_done;
  std::thread t([&] {
    {
      std::lock_guard<std::mutex> g(m1);
      total = total + 1;  // @total_m1
    }
    first_done.pass();
  });
  first_done.wait();
  {
    std::lock_guard<std::mutex> g(m2);
    total = total + 2;  // @total_m2
  }
  t.join();
}

}  // namespace

int main(int argc, char** argv) {
  return run_scenario(argc, argv,
                      {{"counter", unlocked_counter}, {"flag_spin", flag_spin}, {"publish", publish_without_sync},
                       {"different_locks", different_locks}});
}
