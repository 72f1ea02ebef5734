// Locks that standard-library templates construct — two by std::make_unique (one template body,
// two callers when it is not inlined) and one by std::optional::emplace — in a three-lock cycle,
// staggered by latches so the run completes, and a semaphore by std::make_unique, released past
// its maximum. The report must name each object after the line of this file that made it (lines
// 15, 16, 17 and 18), not after the library's line.
#include <latch>
#include <lockgraph/lockgraph.hpp>
#include <memory>
#include <optional>

int main() {
  std::optional<lockgraph::mutex> c_slot;
  std::unique_ptr<lockgraph::mutex> a, b;
  // The three lines the report must show:
  a = std::make_unique<lockgraph::mutex>();
  b = std::make_unique<lockgraph::mutex>();
  lockgraph::mutex& c = c_slot.emplace();
  auto s = std::make_unique<lockgraph::binary_semaphore>(1);
  std::latch first_done(1), second_done(1);
  lockgraph::thread t1([&] {
    {
      std::lock_guard<lockgraph::mutex> ga(*a);
      std::lock_guard<lockgraph::mutex> gb(*b);
    }
    first_done.count_down();  // untraced latches: no happens-before for the analyzer
  });
  lockgraph::thread t2([&] {
    first_done.wait();
    {
      std::lock_guard<lockgraph::mutex> gb(*b);
      std::lock_guard<lockgraph::mutex> gc(c);
    }
    second_done.count_down();
  });
  lockgraph::thread t3([&] {
    second_done.wait();
    std::lock_guard<lockgraph::mutex> gc(c);
    std::lock_guard<lockgraph::mutex> ga(*a);
  });
  t1.join();
  t2.join();
  t3.join();
  s->release();  // past its maximum of 1: lock_misuse
}
