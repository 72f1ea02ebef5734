// One thread takes the named mutexes "first" and "second" in the order argv[1] gives ("AB" or
// "BA"): alone, a run has no cycle; two runs in opposite orders close one (lockgraph merge).
#include <cstring>
#include <lockgraph/lockgraph.hpp>
#include <mutex>

lockgraph::mutex lock_a("A");
lockgraph::mutex lock_b("B");

int main(int argc, char** argv) {
  bool ab = argc > 1 && std::strcmp(argv[1], "AB") == 0;
  lockgraph::thread worker([ab] {
    if (ab) {
      std::lock_guard<lockgraph::mutex> first(lock_a);   // AB: holds A
      std::lock_guard<lockgraph::mutex> second(lock_b);  // AB: acquires B
    } else {
      std::lock_guard<lockgraph::mutex> first(lock_b);   // BA: holds B
      std::lock_guard<lockgraph::mutex> second(lock_a);  // BA: acquires A
    }
  });
  worker.join();
  return 0;
}
