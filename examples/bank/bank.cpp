// A tiny bank with two deliberate bugs, one per mode:
//   bank inversion   transfer() locks the payer's account, then the payee's: two transfers in
//                    opposite directions take the two account mutexes in opposite orders (AB/BA).
//   bank race        the transfer counter is incremented outside any lock.
//   bank safe        both fixed: std::scoped_lock takes both accounts at once, the counter is locked.
// The two threads are staggered through a pipe, so the program never hangs and never races for
// real in this run; lockgraph still sees both bugs (a pipe is not synchronization it records).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

struct Account {
  std::mutex m;
  long balance = 100;
};

Account alice, bob;
long transfers_done = 0;
std::mutex stats_mutex;
int baton[2];

void transfer(Account& from, Account& to, long amount) {
  std::lock_guard payer(from.m);
  std::lock_guard payee(to.m);
  from.balance -= amount;
  to.balance += amount;
}

void transfer_safely(Account& from, Account& to, long amount) {
  std::scoped_lock both(from.m, to.m);
  from.balance -= amount;
  to.balance += amount;
}

void count_transfer(bool locked) {
  if (locked) {
    std::lock_guard g(stats_mutex);
    ++transfers_done;
  } else {
    ++transfers_done;
  }
}

void pass() {
  char c = 1;
  if (write(baton[1], &c, 1) != 1) std::abort();
}
void wait_baton() {
  char c;
  if (read(baton[0], &c, 1) != 1) std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  bool inversion = std::strcmp(mode, "inversion") == 0;
  bool race = std::strcmp(mode, "race") == 0;
  bool safe = std::strcmp(mode, "safe") == 0;
  if (!inversion && !race && !safe) {
    std::fprintf(stderr, "usage: bank inversion|race|safe\n");
    return 2;
  }
  if (pipe(baton) != 0) return 3;
  std::thread t1([&] {
    if (inversion) transfer(alice, bob, 10); else transfer_safely(alice, bob, 10);
    count_transfer(!race);
    pass();
  });
  std::thread t2([&] {
    wait_baton();
    if (inversion) transfer(bob, alice, 5); else transfer_safely(bob, alice, 5);
    count_transfer(!race);
  });
  t1.join();
  t2.join();
  std::printf("alice %ld, bob %ld, %ld transfers\n", alice.balance, bob.balance, transfers_done);
  return 0;
}
