// One order everywhere — a, b, c, then d — through guards, direct calls, pthreads, a
// shared_mutex, an rwlock and a lambda. No cycle; the hierarchy is a -> b -> c -> d.
#include <pthread.h>

#include <mutex>
#include <shared_mutex>

std::mutex a;
std::shared_mutex b;
pthread_mutex_t c = PTHREAD_MUTEX_INITIALIZER;

void ab() {
  std::lock_guard<std::mutex> ga(a);
  std::shared_lock<std::shared_mutex> gb(b);
}

void bc() {
  b.lock();
  pthread_mutex_lock(&c);
  pthread_mutex_unlock(&c);
  b.unlock();
}

void abc() {
  std::lock_guard<std::mutex> ga(a);
  auto inner = [] {
    std::unique_lock<std::shared_mutex> gb(b);
    pthread_mutex_lock(&c);
    pthread_mutex_unlock(&c);
  };
  inner();
}

void later_c() {
  pthread_mutex_lock(&c);
  pthread_mutex_unlock(&c);
  std::lock_guard<std::mutex> ga(a);  // c was released: no c -> a
}

pthread_rwlock_t d = PTHREAD_RWLOCK_INITIALIZER;

void cd() {
  pthread_mutex_lock(&c);
  pthread_rwlock_rdlock(&d);
  pthread_rwlock_unlock(&d);
  pthread_mutex_unlock(&c);
}
