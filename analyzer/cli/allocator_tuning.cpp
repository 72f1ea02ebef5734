// See allocator_tuning.hpp.
#include "allocator_tuning.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace lockgraph::cli {
namespace {

constexpr int kHeapReserve = 1 << 30;       // the huge-page range: address space, not memory
constexpr int kSmallestReserve = 64 << 20;  // below this the range is not worth asking for
constexpr int kLaterGrowth = 64 << 20;      // each growth past it
constexpr int kMmapThreshold = 32 << 20;    // glibc's largest
constexpr int kTrimThreshold = INT_MAX;     // above the reserve: the range is never given back

bool reads_traces(char** argv) {
  // The tables this is for are built by the commands that read traces. The two that read none
  // (`config`, called by build systems, and `generate`), and a bare --help or --version, do not
  // need it; any other command, including one added later, gets it.
  if (argv[0] == nullptr || argv[1] == nullptr || argv[1][0] == '-') return false;
  return std::strcmp(argv[1], "config") != 0 && std::strcmp(argv[1], "generate") != 0;
}

// The range to reserve: 1 GiB, or a quarter of what a limit on address space or data (brk)
// allows, so that a user's `ulimit -v` or `-d` keeps most of its room for the analysis itself.
std::size_t heap_reserve() {
  std::size_t reserve = kHeapReserve;
  for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit limit{};
    if (getrlimit(resource, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      reserve = std::min<std::size_t>(reserve, static_cast<std::size_t>(limit.rlim_cur / 4));
    }
  }
  return reserve;
}

}  // namespace

void tune_allocator(char** argv) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;  // the user's own settings win
  const char* opt_out = std::getenv("LOCKGRAPH_DEFAULT_MALLOC");
  if (opt_out != nullptr && std::strcmp(opt_out, "1") == 0) return;
  if (!reads_traces(argv)) return;
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  // The next growth of the heap (brk) takes the request plus the top pad in one piece; a block
  // larger than what is free forces it. volatile: a malloc freed at once is otherwise dropped.
  const std::size_t reserve = heap_reserve();
  if (reserve < static_cast<std::size_t>(kSmallestReserve)) return;
  mallopt(M_TOP_PAD, static_cast<int>(reserve));
  char* const before = static_cast<char*>(sbrk(0));
  void* volatile probe = malloc(std::size_t(4) << 20);
  free(probe);
  char* const after = static_cast<char*>(sbrk(0));
  mallopt(M_TOP_PAD, kLaterGrowth);
  if (before == reinterpret_cast<char*>(-1) || after <= before) return;  // the heap did not grow in place
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  char* const from = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(before) + page - 1) & ~(page - 1));
  if (after > from) madvise(from, static_cast<std::size_t>(after - from), MADV_HUGEPAGE);
}

}  // namespace lockgraph::cli
