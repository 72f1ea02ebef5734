// main() of the tracer tests. The test binary links the runtime, so the test process itself is
// traced from its start (a constructor registers the main thread), not just the forked children
// whose traces the tests read from their own TempDir. ctest runs one process per test, and each
// left its own trace behind in the build tree: about 0.5 MB a run, gigabytes over weeks of
// development. This main removes the process's own trace when every test passed and keeps it,
// naming it, when one failed: there it is the first thing to read. `--keep-own-trace` keeps it
// always (a test that execs this binary to look at the trace it writes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "lockgraph/runtime.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  bool keep = false;
  for (int i = 1; i < argc; ++i) keep = keep || std::strcmp(argv[i], "--keep-own-trace") == 0;
  int rc = RUN_ALL_TESTS();
  std::string own = lockgraph::rt::trace_path();  // copied: the runtime owns the buffer
  if (!own.empty() && !keep) {
    if (rc == 0) {
      unlink(own.c_str());  // still open for the trailer written at exit: fine on Linux
    } else {
      std::fprintf(stderr, "the test process's own trace is kept: %s\n", own.c_str());
    }
  }
  return rc;
}
