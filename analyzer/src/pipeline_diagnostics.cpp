// See pipeline_diagnostics.hpp.
#include "pipeline_diagnostics.hpp"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lockgraph::analysis {
namespace {

bool pin_to(pthread_t thread, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(thread, sizeof one, &one) == 0;
}

double milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

PipelineDiagnostics::PipelineDiagnostics() {
  if (const char* s = std::getenv("LOCKGRAPH_PIPELINE_STATS"); s != nullptr && std::strcmp(s, "1") == 0) {
    stats_ = true;
    start_ = Clock::now();
  }
  const char* cpus = std::getenv("LOCKGRAPH_PIPELINE_CPUS");
  if (cpus == nullptr) return;
  int consumer = -1, producer = -1, used = 0;
  if (std::sscanf(cpus, "%d,%d%n", &consumer, &producer, &used) != 2 || cpus[used] != '\0' || consumer < 0 ||
      producer < 0 || consumer >= CPU_SETSIZE || producer >= CPU_SETSIZE) {
    std::fprintf(stderr, "lockgraph: warning: LOCKGRAPH_PIPELINE_CPUS=%s is not CONSUMER,PRODUCER (two CPU numbers); ignored\n",
                 cpus);
    return;
  }
  if (pthread_getaffinity_np(pthread_self(), sizeof old_affinity_, &old_affinity_) == 0 &&
      pin_to(pthread_self(), consumer)) {
    pinned_ = true;
    producer_cpu_ = producer;
  } else {
    std::fprintf(stderr, "lockgraph: warning: LOCKGRAPH_PIPELINE_CPUS=%s: cannot run on CPU %d; ignored\n", cpus, consumer);
  }
}

PipelineDiagnostics::~PipelineDiagnostics() {
  if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof old_affinity_, &old_affinity_);
  if (stats_) {
    std::fprintf(stderr, "lockgraph: pipeline: %.1f ms, producer waited %.1f ms for room, consumer %.1f ms for events\n",
                 milliseconds(Clock::now() - start_), milliseconds(producer_wait_), milliseconds(consumer_wait_));
  }
}

void PipelineDiagnostics::on_producer_start() const {
  if (producer_cpu_ >= 0 && !pin_to(pthread_self(), producer_cpu_)) {
    std::fprintf(stderr, "lockgraph: warning: LOCKGRAPH_PIPELINE_CPUS: cannot run the producer on CPU %d\n", producer_cpu_);
  }
}

}  // namespace lockgraph::analysis
