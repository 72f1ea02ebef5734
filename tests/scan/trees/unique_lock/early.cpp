// unique_lock released early, deferred, tried; a branch that unlocks or returns. The only
// order here is b -> a (take_b_then_a, deferred_a); no cycle.
#include <mutex>

std::mutex a;
std::mutex b;
std::mutex c;

void unlocked_early() {
  std::unique_lock<std::mutex> la(a);
  la.unlock();
  std::lock_guard<std::mutex> gb(b);  // a is no longer held: no a -> b
}

void take_b_then_a() {
  std::lock_guard<std::mutex> gb(b);
  std::lock_guard<std::mutex> ga(a);
}

void deferred_a() {
  std::unique_lock<std::mutex> la(a, std::defer_lock);
  std::lock_guard<std::mutex> gb(b);
  la.lock();  // b -> a
}

void tried_c() {
  std::unique_lock<std::mutex> la(a);
  std::unique_lock<std::mutex> lc(c, std::try_to_lock);  // a try never blocks: no a -> c
}

void branch(bool give_up) {
  std::unique_lock<std::mutex> la(a);
  if (give_up) {
    la.unlock();
  } else {
    return;
  }
  std::lock_guard<std::mutex> gb(b);  // every path that gets here released a: no a -> b
}
