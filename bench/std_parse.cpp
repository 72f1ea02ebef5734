// bench_std_parse FILE [WORKERS] — parses an STD trace and nothing else (bench/predictive.sh's
// "parse" row): the reader's own speed, events streamed and dropped, names interned. WORKERS
// (default: what `analyze` uses on this machine) is the parser thread count for files past
// 4 MiB: 1 is the single reader, more parse slices in parallel (StdTrace::parse_text_parallel);
// the parse time is printed.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "lockgraph/analyzer/std_trace.hpp"

using lockgraph::analysis::Problem;
using lockgraph::analysis::StdEvent;
using lockgraph::analysis::StdTrace;

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: bench_std_parse FILE [WORKERS]\n");
    return 2;
  }
  const unsigned workers = argc == 3 ? unsigned(std::strtoul(argv[2], nullptr, 10)) : StdTrace::default_workers();
  StdTrace names;
  Problem problem;
  std::uint64_t events = 0;
  const auto start = std::chrono::steady_clock::now();
  const bool ok = StdTrace::parse_file_batches(
      argv[1], &names, &problem, [&](const StdEvent*, std::size_t n) { events += n; }, workers);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!ok) {
    std::fprintf(stderr, "%s\n", problem.message().c_str());
    return 2;
  }
  std::printf("%u workers: %.3f s\n", workers, took.count());
  std::printf("%llu events, %zu threads, %zu locks, %zu variables, %zu locations\n",
              static_cast<unsigned long long>(events), names.threads.size(), names.locks.size(), names.variables.size(),
              names.locations.size());
  return 0;
}
