// bench_std_parse FILE [WORKERS] — parses an STD trace and nothing else (bench/predictive.sh's
// "parse" row): the reader's own speed, events streamed and dropped, names interned. With
// WORKERS, the file is parsed in slices on that many threads (StdTrace::parse_text_parallel,
// which `analyze` uses from three cores on) and the parse time is printed.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "lockgraph/analyzer/std_trace.hpp"

using lockgraph::analysis::Problem;
using lockgraph::analysis::StdEvent;
using lockgraph::analysis::StdTrace;

namespace {

bool parse_in_slices(const char* path, unsigned workers, StdTrace* names, Problem* problem, std::uint64_t* events) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    problem->file = path;
    problem->reason = "cannot open, or empty";
    return false;
  }
  void* map = ::mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return false;
  StdTrace::ParallelOptions options;
  options.workers = workers;
  options.mapped = true;
  auto start = std::chrono::steady_clock::now();
  bool ok = StdTrace::parse_text_parallel(std::string_view(static_cast<const char*>(map), std::size_t(st.st_size)),
                                          path, names, problem,
                                          [&](const StdEvent*, std::size_t n) { *events += n; }, options);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("%u workers: %.3f s\n", workers, took.count());
  ::munmap(map, std::size_t(st.st_size));
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: bench_std_parse FILE [WORKERS]\n");
    return 2;
  }
  StdTrace names;
  Problem problem;
  std::uint64_t events = 0;
  bool ok = argc == 3 ? parse_in_slices(argv[1], unsigned(std::strtoul(argv[2], nullptr, 10)), &names, &problem, &events)
                      : StdTrace::parse_file_batches(argv[1], &names, &problem,
                                                     [&](const StdEvent*, std::size_t n) { events += n; });
  if (!ok) {
    std::fprintf(stderr, "%s\n", problem.message().c_str());
    return 2;
  }
  std::printf("%llu events, %zu threads, %zu locks, %zu variables, %zu locations\n",
              static_cast<unsigned long long>(events), names.threads.size(), names.locks.size(), names.variables.size(),
              names.locations.size());
  return 0;
}
