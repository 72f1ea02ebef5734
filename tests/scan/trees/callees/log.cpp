// The callee, in its own translation unit.
#include <mutex>

std::mutex log_m;

void write_log() {
  std::lock_guard<std::mutex> g(log_m);
}
