// Lock-order programs (std:: and pthread only, no instrumentation: the preload alone sees their
// locks), run under `lockgraph run`. The first group can deadlock in another schedule and must be
// reported as deadlock_potential; the second cannot, and must not be. Threads are staggered with
// a pipe (baton.hpp) so no run ever hangs and lockgraph sees no ordering between them.
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "baton.hpp"
#include "scenarios.hpp"

namespace {

std::mutex lock_a, lock_b, lock_c;

void abba() {
  Baton done;
  std::thread t1([&] {
    std::lock_guard<std::mutex> ga(lock_a);  // @abba_t1_a
    std::lock_guard<std::mutex> gb(lock_b);  // @abba_t1_b
    done.pass();
  });
  std::thread t2([&] {
    done.wait();
    std::lock_guard<std::mutex> gb(lock_b);  // @abba_t2_b
    std::lock_guard<std::mutex> ga(lock_a);  // @abba_t2_a
  });
  t1.join();
  t2.join();
}

void three_cycle() {
  Baton one, two;
  std::thread t1([&] {
    std::lock_guard<std::mutex> g1(lock_a);
    std::lock_guard<std::mutex> g2(lock_b);
    one.pass();
  });
  std::thread t2([&] {
    one.wait();
    std::lock_guard<std::mutex> g1(lock_b);
    std::lock_guard<std::mutex> g2(lock_c);
    two.pass();
  });
  std::thread t3([&] {
    two.wait();
    std::lock_guard<std::mutex> g1(lock_c);
    std::lock_guard<std::mutex> g2(lock_a);
  });
  t1.join();
  t2.join();
  t3.join();
}

std::mutex forks[5];
void philosophers() {
  // Left then right: philosopher 4's right fork is fork 0 — the classic cycle of five.
  Baton turn[5];
  std::vector<std::thread> ts;
  for (int i = 0; i < 5; ++i) {
    ts.emplace_back([&, i] {
      if (i > 0) turn[i - 1].wait();
      {
        std::lock_guard<std::mutex> left(forks[i]);
        std::lock_guard<std::mutex> right(forks[(i + 1) % 5]);
      }
      if (i < 4) turn[i].pass();
    });
  }
  for (auto& t : ts) t.join();
}

std::shared_mutex table_lock;
std::mutex stats_lock;
void shared_exclusive() {
  Baton done;
  std::thread reader([&] {
    std::shared_lock<std::shared_mutex> r(table_lock);
    std::lock_guard<std::mutex> s(stats_lock);
    done.pass();
  });
  std::thread writer([&] {
    done.wait();
    std::lock_guard<std::mutex> s(stats_lock);
    std::unique_lock<std::shared_mutex> w(table_lock);
  });
  reader.join();
  writer.join();
}

void many_locks() {
  // 2,000 locks; each thread holds 64 at once. Only locks 100 and 1900 are taken in both orders.
  std::vector<std::unique_ptr<std::mutex>> locks;
  for (int i = 0; i < 2000; ++i) locks.push_back(std::make_unique<std::mutex>());
  Baton done;
  std::thread t1([&] {
    for (int i = 100; i < 164; ++i) locks[i]->lock();
    locks[1900]->lock();
    locks[1900]->unlock();
    for (int i = 163; i >= 100; --i) locks[i]->unlock();
    for (int i = 0; i < 2000; ++i) {  // touch every lock, in order
      locks[i]->lock();
      locks[i]->unlock();
    }
    done.pass();
  });
  std::thread t2([&] {
    done.wait();
    for (int i = 1900; i < 1964; ++i) locks[i]->lock();
    locks[100]->lock();
    locks[100]->unlock();
    for (int i = 1963; i >= 1900; --i) locks[i]->unlock();
  });
  t1.join();
  t2.join();
}

// The AB/BA inversion in a fork()ed child (a real process), on locks it inherited from its parent.
void forked_child_abba() {
  { std::lock_guard<std::mutex> g(lock_a); }  // used by the parent before the fork
  pid_t child = fork();
  if (child < 0) std::abort();
  if (child == 0) {
    abba();
    _exit(0);  // as a fork()ed child should: the trace must still end cleanly
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
}

// --- not deadlocks ------------------------------------------------------------------------------

std::mutex gate;
void gate_lock() {
  Baton done;
  std::thread t1([&] {
    std::lock_guard<std::mutex> g(gate);
    std::lock_guard<std::mutex> a(lock_a);
    std::lock_guard<std::mutex> b(lock_b);
    done.pass();
  });
  std::thread t2([&] {
    done.wait();
    std::lock_guard<std::mutex> g(gate);
    std::lock_guard<std::mutex> b(lock_b);
    std::lock_guard<std::mutex> a(lock_a);
  });
  t1.join();
  t2.join();
}

void join_ordered() {
  std::thread t1([&] {
    std::lock_guard<std::mutex> a(lock_a);  // @joined_t1_a
    std::lock_guard<std::mutex> b(lock_b);  // @joined_t1_b
  });
  t1.join();  // everything t1 did happens before t2 exists
  std::thread t2([&] {
    std::lock_guard<std::mutex> b(lock_b);
    std::lock_guard<std::mutex> a(lock_a);
  });
  t2.join();
}

void trylock_backoff() {
  Baton done;
  std::thread t1([&] {
    std::lock_guard<std::mutex> a(lock_a);
    std::lock_guard<std::mutex> b(lock_b);
    done.pass();
  });
  std::thread t2([&] {
    done.wait();
    std::lock_guard<std::mutex> b(lock_b);
    if (lock_a.try_lock()) lock_a.unlock();  // never blocks while holding b
  });
  t1.join();
  t2.join();
}

// One function that takes two locks, reached by two threads from different callers: each
// thread's edge must show its own caller, not the one that reached the lock site first. The
// locks are members of array elements: named from debug info as accounts[0].m, accounts[1].m.
struct Account {
  long balance = 0;
  std::mutex m;
};
Account accounts[2];
std::atomic<int> transfers_done{0};
[[gnu::noinline]] void transfer(Account& from, Account& to) {
  std::lock_guard<std::mutex> g1(from.m);  // @transfer_first
  std::lock_guard<std::mutex> g2(to.m);    // @transfer_second
  from.balance -= 1;
  to.balance += 1;
}
void shared_site() {
  Baton done;
  std::thread t1([&] {
    transfer(accounts[0], accounts[1]);  // @transfer_caller_1
    done.pass();
  });
  std::thread t2([&] {
    done.wait();
    transfer(accounts[1], accounts[0]);  // @transfer_caller_2
    transfers_done.fetch_add(1);  // no tail call: the caller's frame stays on the stack
  });
  t1.join();
  t2.join();
}

pthread_rwlock_t rw1 = PTHREAD_RWLOCK_INITIALIZER, rw2 = PTHREAD_RWLOCK_INITIALIZER;
void reader_reader() {
  Baton done;
  std::thread t1([&] {
    pthread_rwlock_rdlock(&rw1);
    pthread_rwlock_rdlock(&rw2);
    pthread_rwlock_unlock(&rw2);
    pthread_rwlock_unlock(&rw1);
    done.pass();
  });
  std::thread t2([&] {
    done.wait();
    pthread_rwlock_rdlock(&rw2);
    pthread_rwlock_rdlock(&rw1);
    pthread_rwlock_unlock(&rw1);
    pthread_rwlock_unlock(&rw2);
  });
  t1.join();
  t2.join();
}

}  // namespace

int main(int argc, char** argv) {
  return run_scenario(argc, argv,
                      {{"abba", abba}, {"three_cycle", three_cycle}, {"philosophers", philosophers},
                       {"shared_exclusive", shared_exclusive}, {"many_locks", many_locks}, {"forked_child_abba", forked_child_abba},
                       {"gate_lock", gate_lock},
                       {"join_ordered", join_ordered}, {"trylock_backoff", trylock_backoff},
                       {"reader_reader", reader_reader}, {"shared_site", shared_site}});
}
