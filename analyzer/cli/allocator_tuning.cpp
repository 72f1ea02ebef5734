// See allocator_tuning.hpp.
#include "allocator_tuning.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lockgraph::cli {
namespace {

// Set by the first process for the second: our tunables are in GLIBC_TUNABLES and must go.
constexpr const char* kMarker = "LOCKGRAPH_ALLOCATOR_TUNED";
// arena_max=1: glibc gives huge pages (hugetlb=1) to its main arena only, and a second thread's
// blocks (the replay's batches of events, the STD reader's) came from a per-thread arena in 4 KiB
// pages: 2,100 of the 10^6-event benchmark's 4,240 page faults. The threads allocate rarely
// enough that sharing one arena costs nothing measurable.
constexpr const char* kTunables =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:"
    "glibc.malloc.arena_max=1";

}  // namespace

void tune_allocator(char** argv) {
  if (std::getenv(kMarker) != nullptr) {
    // The second start: the allocator read its tunables already; the environment goes back to
    // the user's.
    unsetenv("GLIBC_TUNABLES");
    unsetenv(kMarker);
    return;
  }
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;  // the user's own settings win
  // The tables this is for are built by the commands that read traces. The two that read none
  // (`config`, called by build systems, and `generate`), and a bare --help or --version, are not
  // worth a second start; any other command, including one added later, gets it.
  if (argv[0] == nullptr || argv[1] == nullptr || argv[1][0] == '-') return;
  if (std::strcmp(argv[1], "config") == 0 || std::strcmp(argv[1], "generate") == 0) return;
  const char* opt_out = std::getenv("LOCKGRAPH_DEFAULT_MALLOC");
  if (opt_out != nullptr && std::strcmp(opt_out, "1") == 0) return;
  // The binary by its path, not /proc/self/exe itself: under valgrind the latter is valgrind's
  // tool, while readlink() of it names the program.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  if (setenv("GLIBC_TUNABLES", kTunables, 1) != 0 || setenv(kMarker, "1", 1) != 0) return;
  execv(self, argv);
  unsetenv("GLIBC_TUNABLES");  // no exec (the binary was replaced meanwhile?): the defaults it is
  unsetenv(kMarker);
}

}  // namespace lockgraph::cli
