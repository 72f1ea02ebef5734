// Internal: PipelineDiagnostics — opt-in measurement of run_pipelined() (event_pipeline.hpp), for
// benchmarks on machines whose cores are not alike (docs/performance.md, "Measuring on this VM").
//
//   LOCKGRAPH_PIPELINE_CPUS=C,P   the consumer (the calling thread) runs on CPU C and the producer
//                                 on CPU P for the run, so two builds compare with each half on
//                                 the same core;
//   LOCKGRAPH_PIPELINE_STATS=1    when the run ends, one line on stderr: its wall time and how long
//                                 the producer waited for room and the consumer for events (the
//                                 side that waits is not the one that sets the pace).
//
// Contract: with neither variable set it changes nothing and reads no clock. A value that does
// not parse gets a one-line warning on stderr and is ignored. The consumer's CPU affinity is
// restored when the run ends.
// Cost: two getenv() calls per run; with statistics on, two clock reads per batch hand-off.
#pragma once

#include <sched.h>

#include <chrono>
#include <cstdint>

namespace lockgraph::analysis {

class PipelineDiagnostics {
 public:
  using Clock = std::chrono::steady_clock;

  PipelineDiagnostics();  // reads the environment; pins the calling thread if asked
  ~PipelineDiagnostics();  // restores the calling thread's affinity; prints the statistics
  PipelineDiagnostics(const PipelineDiagnostics&) = delete;
  PipelineDiagnostics& operator=(const PipelineDiagnostics&) = delete;

  void on_producer_start() const;  // on the producer thread: pins it if asked

  // A wait begins (a time only when statistics are on) ...
  Clock::time_point wait_begins() const { return stats_ ? Clock::now() : Clock::time_point{}; }
  // ... and ends: on the producer thread (waited for room) or the consumer's (waited for events).
  void producer_waited(Clock::time_point since) {
    if (stats_) producer_wait_ += Clock::now() - since;
  }
  void consumer_waited(Clock::time_point since) {
    if (stats_) consumer_wait_ += Clock::now() - since;
  }

 private:
  bool stats_ = false;
  int producer_cpu_ = -1;
  bool pinned_ = false;  // the consumer's affinity was changed and saved in old_affinity_
  cpu_set_t old_affinity_{};
  Clock::time_point start_{};
  Clock::duration producer_wait_{}, consumer_wait_{};
};

}  // namespace lockgraph::analysis
