// A program that meets a fault after recording a known amount: 100 acquisitions of "before" by
// each of two threads, joined, then:
//   faults abort | segv | _exit          dies that way
//   faults running                       returns from main while a thread is still running
//   faults diskfull                      runs out of trace space (RLIMIT_FSIZE; SIGXFSZ ignored so
//                                        that it behaves like ENOSPC) and keeps going: 300,000 more
//                                        acquisitions, then prints "still running" and exits 0
//   faults fork                          fork()s; the child takes "child_lock" 100 times and exits
//   faults forkexec                      fork()s; the child execs `faults child-exec`, which records
//                                        100 acquisitions of "exec_lock" in its own trace file
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <lockgraph/lockgraph.hpp>
#include <mutex>
#include <string>

namespace {

void record_before() {
  lockgraph::mutex before("before");
  auto work = [&] {
    for (int i = 0; i < 100; ++i) std::lock_guard<lockgraph::mutex> g(before);
  };
  lockgraph::thread a(work), b(work);
  a.join();
  b.join();
}

volatile int* nowhere = nullptr;

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "child-exec") {
    lockgraph::mutex exec_lock("exec_lock");
    for (int i = 0; i < 100; ++i) std::lock_guard<lockgraph::mutex> g(exec_lock);
    return 0;
  }
  if (mode == "diskfull") {
    signal(SIGXFSZ, SIG_IGN);
    // The header and the first 8 MiB segment of chunks (allocated at start-up); the next
    // segment cannot be allocated.
    rlimit limit{(8 << 20) + 4096, (8 << 20) + 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  record_before();
  if (mode == "abort") std::abort();
  if (mode == "segv") return *nowhere;
  if (mode == "_exit") _exit(3);
  if (mode == "running") {
    // A thread records 100 acquisitions, says so, and stays alive (in pause()); main returns
    // meanwhile.
    int ready[2];
    if (pipe(ready) != 0) return 3;
    lockgraph::thread alive([&] {
      lockgraph::mutex busy("busy");
      for (int i = 0; i < 100; ++i) std::lock_guard<lockgraph::mutex> g(busy);
      char c = 1;
      if (write(ready[1], &c, 1) != 1) std::abort();
      for (;;) pause();
    });
    char c;
    if (read(ready[0], &c, 1) != 1) return 3;
    alive.detach();
    return 0;  // exit() with the thread still running
  }
  if (mode == "diskfull") {
    lockgraph::mutex after("after");
    for (int i = 0; i < 300000; ++i) std::lock_guard<lockgraph::mutex> g(after);
    std::printf("still running\n");
    return 0;
  }
  if (mode == "fork" || mode == "forkexec") {
    pid_t pid = fork();
    if (pid == 0) {
      if (mode == "forkexec") {
        execl(argv[0], argv[0], "child-exec", static_cast<char*>(nullptr));
        _exit(127);
      }
      lockgraph::mutex child_lock("child_lock");
      for (int i = 0; i < 100; ++i) std::lock_guard<lockgraph::mutex> g(child_lock);
      return 0;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  std::fprintf(stderr, "usage: faults abort|segv|_exit|running|diskfull|fork|forkexec\n");
  return 2;
}
