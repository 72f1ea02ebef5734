// std::scoped_lock and std::lock take their locks deadlock-free: no order among them. Only
// c, taken while a and b are held, is ordered after them.
#include <mutex>

std::mutex a;
std::mutex b;
std::mutex c;

void both_ab() { std::scoped_lock both(a, b); }

void both_ba() { std::scoped_lock both(b, a); }

void lock_then_adopt() {
  std::lock(a, b);
  std::lock_guard<std::mutex> ga(a, std::adopt_lock);
  std::lock_guard<std::mutex> gb(b, std::adopt_lock);
  std::lock_guard<std::mutex> gc(c);  // a -> c, b -> c
}
