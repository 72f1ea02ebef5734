// update_cache holds cache_m and calls flush, which calls db_write, which takes db_m: the order
// cache_m -> db_m is two calls deep. db_callback takes them the other way round.
#include <mutex>

std::mutex cache_m;
std::mutex db_m;

void db_write() {
  std::lock_guard<std::mutex> g(db_m);
}

void flush() {
  db_write();
}

void update_cache() {
  std::lock_guard<std::mutex> g(cache_m);
  flush();
}

void db_callback() {
  std::lock_guard<std::mutex> g(db_m);
  std::lock_guard<std::mutex> c(cache_m);
}
