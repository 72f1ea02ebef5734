// A member (one node per class), a namespaced global and a parameter.
#include <mutex>

namespace bank {
std::mutex audit_m;
}

struct Account {
  std::mutex m;
  int balance = 0;
  void deposit(int n) {
    std::lock_guard<std::mutex> g(m);
    balance += n;
  }
};

void transfer(Account& from, Account& to, int n) {
  std::lock_guard<std::mutex> a(from.m);
  std::lock_guard<std::mutex> b(to.m);  // Account::m -> Account::m: transfer(x, y) || transfer(y, x)
  from.balance -= n;
  to.balance += n;
}

void audit(Account& acc) {
  std::lock_guard<std::mutex> g(acc.m);
  std::lock_guard<std::mutex> a(bank::audit_m);  // Account::m -> bank::audit_m
}

void with_lock(std::mutex& p) {
  std::lock_guard<std::mutex> g(bank::audit_m);
  std::lock_guard<std::mutex> h(p);  // bank::audit_m -> with_lock:p
}
