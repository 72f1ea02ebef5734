// rlock — the deadlock program with one recursive lock for both names (the lecture's RLock fix):
// A and B are the same recursive_mutex, so a thread holding it may take it again, and no thread
// can hold "A" while another holds "B". The run completes and lockgraph reports nothing.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <lockgraph/lockgraph.hpp>
#include <vector>

lockgraph::recursive_mutex lock("rlock");
lockgraph::recursive_mutex& A = lock;
lockgraph::recursive_mutex& B = lock;

void func_one(int id) {
  std::lock_guard<lockgraph::recursive_mutex> a(A);
  std::lock_guard<lockgraph::recursive_mutex> b(B);
  std::printf("worker %d: func_one got A and B\n", id);
}

void func_two(int id) {
  std::lock_guard<lockgraph::recursive_mutex> b(B);
  std::lock_guard<lockgraph::recursive_mutex> a(A);
  std::printf("worker %d: func_two got B and A\n", id);
}

int main(int argc, char** argv) {
  CLI::App app{"The deadlock program fixed with one recursive lock for both names."};
  int threads = 5;
  app.add_option("--threads", threads, "Number of threads")->check(CLI::Range(1, 1000));
  app.footer("Expected: completes; lockgraph reports no findings.");
  CLI11_PARSE(app, argc, argv);
  std::vector<lockgraph::thread> ts;
  for (int i = 1; i <= threads; ++i) ts.emplace_back([i] {
    func_one(i);
    func_two(i);
  });
  for (auto& t : ts) t.join();
  std::printf("all threads finished\n");
  return 0;
}
