// bench_std_parse FILE — parses an STD trace and nothing else (bench/predictive.sh's "parse"
// row): the reader's own speed, events streamed and dropped, names interned.
#include <cstdio>

#include "lockgraph/analyzer/std_trace.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_std_parse FILE\n");
    return 2;
  }
  lockgraph::analysis::StdTrace names;
  lockgraph::analysis::Problem problem;
  std::uint64_t events = 0;
  bool ok = lockgraph::analysis::StdTrace::parse_file_batches(
      argv[1], &names, &problem, [&](const lockgraph::analysis::StdEvent*, std::size_t n) { events += n; });
  if (!ok) {
    std::fprintf(stderr, "%s\n", problem.message().c_str());
    return 2;
  }
  std::printf("%llu events, %zu threads, %zu locks, %zu variables, %zu locations\n",
              static_cast<unsigned long long>(events), names.threads.size(), names.locks.size(), names.variables.size(),
              names.locations.size());
  return 0;
}
