// The AB/BA inversion with lockgraph's drop-in wrappers: named mutexes, lockgraph::thread, and a
// latch-free stagger through a pipe so that the run itself never hangs.
#include <unistd.h>

#include <cstdlib>

#include "lockgraph/lockgraph.hpp"

int main() {
  lockgraph::mutex ledger("ledger");
  lockgraph::mutex audit("audit");
  int baton[2];
  if (pipe(baton) != 0) return 3;
  lockgraph::thread writer([&] {
    std::lock_guard a(ledger);
    std::lock_guard b(audit);
    char c = 1;
    if (write(baton[1], &c, 1) != 1) std::abort();
  });
  lockgraph::thread auditor([&] {
    char c;
    if (read(baton[0], &c, 1) != 1) std::abort();
    std::lock_guard b(audit);
    std::lock_guard a(ledger);
  });
  writer.join();
  auditor.join();
  return 0;
}
