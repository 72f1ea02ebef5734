// static_gap — a thread takes A then B; B then A happens only with --backward, which the tests
// do not pass: the run sees A -> B, the source also has B -> A (analyze --static finds it).
#include <cstring>
#include <lockgraph/lockgraph.hpp>
#include <mutex>

lockgraph::mutex A("A");
lockgraph::mutex B("B");

void forward() {
  std::lock_guard<lockgraph::mutex> a(A);
  std::lock_guard<lockgraph::mutex> b(B);
}

void backward() {
  std::lock_guard<lockgraph::mutex> b(B);
  std::lock_guard<lockgraph::mutex> a(A);
}

int main(int argc, char** argv) {
  bool both = argc > 1 && std::strcmp(argv[1], "--backward") == 0;
  lockgraph::thread t(forward);
  t.join();
  if (both) backward();
  return 0;
}
