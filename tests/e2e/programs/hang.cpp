// A real AB/BA deadlock, forced by a latch: without the watchdog this program hangs forever.
#include <latch>
#include <lockgraph/lockgraph.hpp>

lockgraph::mutex A("A");
lockgraph::mutex B("B");

int main() {
  std::latch both(2);
  lockgraph::thread t1([&] {
    std::lock_guard<lockgraph::mutex> a(A);
    both.arrive_and_wait();
    std::lock_guard<lockgraph::mutex> b(B);  // line 13
  });
  lockgraph::thread t2([&] {
    std::lock_guard<lockgraph::mutex> b(B);
    both.arrive_and_wait();
    std::lock_guard<lockgraph::mutex> a(A);  // line 18
  });
  t1.join();
  t2.join();
}
