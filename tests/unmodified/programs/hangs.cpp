// Programs that really deadlock or misuse a lock (std:: and pthread only). Under `lockgraph run`
// none may hang: the watchdog ends a deadlocked program (exit 86) and the report explains it.
#include <pthread.h>

#include <cstdio>
#include <cstring>
#include <latch>
#include <mutex>
#include <thread>

#include "scenarios.hpp"

namespace {

std::mutex solo;
void self_relock() {
  solo.lock();  // @relock_first
  solo.lock();  // @relock_second
}

std::mutex left, right;
void abba_hang() {
  std::latch both_hold_one(2);
  std::thread t1([&] {
    std::lock_guard<std::mutex> a(left);
    both_hold_one.arrive_and_wait();
    std::lock_guard<std::mutex> b(right);  // @hang_t1_waits
  });
  std::thread t2([&] {
    std::lock_guard<std::mutex> b(right);
    both_hold_one.arrive_and_wait();
    std::lock_guard<std::mutex> a(left);  // @hang_t2_waits
  });
  t1.join();
  t2.join();
}

std::mutex orphan;
void exit_holding() {
  std::thread t([] { orphan.lock(); });  // @orphan_lock
  t.join();
  orphan.lock();  // @orphan_wait
}

pthread_mutex_t never_locked = PTHREAD_MUTEX_INITIALIZER;
void unlock_unlocked() {
  pthread_mutex_unlock(&never_locked);  // @bad_unlock
}

}  // namespace

int main(int argc, char** argv) {
  return run_scenario(argc, argv,
                      {{"self_relock", self_relock}, {"abba_hang", abba_hang}, {"exit_holding", exit_holding},
                       {"unlock_unlocked", unlock_unlocked}});
}
