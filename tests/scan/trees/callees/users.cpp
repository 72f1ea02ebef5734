// register_user holds registry_m and calls write_log (in log.cpp), which takes log_m;
// rotate_logs takes log_m, then registry_m. The cycle needs the call followed.
#include <mutex>

std::mutex registry_m;
extern std::mutex log_m;
void write_log();

void register_user() {
  std::lock_guard<std::mutex> g(registry_m);
  write_log();
}

void rotate_logs() {
  std::lock_guard<std::mutex> l(log_m);
  std::lock_guard<std::mutex> r(registry_m);
}
