// hidden_race — the race happens-before cannot see: thread 1 writes `config`, then holds
// `stats_lock` briefly; thread 2 then holds `stats_lock` briefly and writes `config`. The lock
// orders the writes in this run, but the critical sections share nothing and could run the other
// way round: `analyze --races wcp` predicts the race, plain analysis (and TSan) cannot.
// An untraced std::latch makes thread 2 start its critical section after thread 1's, every run.
#include <latch>
#include <lockgraph/lockgraph.hpp>
#include <mutex>

lockgraph::mutex stats_lock("stats_lock");
lockgraph::shared<int> config{0, "config"};
lockgraph::shared<int> reads_seen{0, "reads_seen"};  // each thread's own statistic: the
lockgraph::shared<int> writes_seen{0, "writes_seen"};  // critical sections do not conflict

int main() {
  std::latch first_done{1};
  lockgraph::thread t1([&] {
    config.set(1);  // line 18
    {
      std::lock_guard<lockgraph::mutex> g(stats_lock);
      reads_seen.set(reads_seen.get() + 1);
    }
    first_done.count_down();
  });
  lockgraph::thread t2([&] {
    first_done.wait();
    {
      std::lock_guard<lockgraph::mutex> g(stats_lock);
      writes_seen.set(writes_seen.get() + 1);
    }
    config.set(2);  // line 31
  });
  t1.join();
  t2.join();
  return 0;
}
