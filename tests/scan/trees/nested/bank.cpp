// Nested guards: transfer_ab takes a then b; transfer_ba takes b then a.
#include <mutex>

std::mutex a;
std::mutex b;
int balance = 0;

void transfer_ab() {
  std::lock_guard<std::mutex> first(a);
  std::lock_guard<std::mutex> second(b);
  ++balance;
}

void transfer_ba() {
  std::lock_guard<std::mutex> first(b);
  std::lock_guard<std::mutex> second(a);
  --balance;
}
