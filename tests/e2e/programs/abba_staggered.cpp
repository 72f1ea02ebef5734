// AB/BA with the two threads staggered by a latch: the run completes, the cycle is still there.
#include <latch>
#include <lockgraph/lockgraph.hpp>

lockgraph::mutex A("A");
lockgraph::mutex B("B");

int main() {
  std::latch first_done(1);
  lockgraph::thread t1([&] {
    {
      std::lock_guard<lockgraph::mutex> a(A);
      std::lock_guard<lockgraph::mutex> b(B);  // line 13
    }
    first_done.count_down();  // an untraced latch: gives no happens-before to the analyzer
  });
  lockgraph::thread t2([&] {
    first_done.wait();
    std::lock_guard<lockgraph::mutex> b(B);
    std::lock_guard<lockgraph::mutex> a(A);  // line 20
  });
  t1.join();
  t2.join();
}
