// `lockgraph run -- PROGRAM ARGS...`: runs an unmodified program with the preload runtime,
// then analyzes its trace and exits with the gate's code (docs/unmodified-programs.md).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "lockgraph/watchdog.hpp"
#include "runtime_paths.hpp"

namespace lockgraph::cli {
namespace {

namespace fs = std::filesystem;

struct RunOptions {
  AnalyzeOptions analyze;
  std::vector<std::string> command;
  std::string trace_dir;
  bool keep_trace = false;
  bool force = false;
  double timeout_s = 0;
};

volatile sig_atomic_t g_child = 0;

void forward_signal(int sig) {
  if (g_child > 0) kill(pid_t(g_child), sig);
}

// The program as execvp() would find it, or "" when it is not found.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// True when the file holds `marker` (mapped, not read: programs can be large).
bool file_contains(const std::string& path, const std::string& marker) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool found = false;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    void* m = mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      found = memmem(m, std::size_t(st.st_size), marker.data(), marker.size()) != nullptr;
      munmap(m, std::size_t(st.st_size));
    }
  }
  close(fd);
  return found;
}

// True when the program links the lockgraph runtime itself (the wrappers): preloading the
// interposer too would record each of its locks twice.
bool records_itself(const std::string& program) {
  // Split so that this binary does not contain the marker itself.
  return file_contains(program, std::string("lockgraph-static-") + "runtime-v1");
}

bool prepare_trace_dir(RunOptions& o, bool* temporary) {
  *temporary = o.trace_dir.empty();
  if (*temporary) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lockgraph-run-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      fail("cannot create a temporary trace directory in " + templ + ": " + std::strerror(errno));
      return false;
    }
    o.trace_dir = buf.data();
    return true;
  }
  std::error_code ec;
  if (fs::exists(o.trace_dir, ec) && !fs::is_empty(o.trace_dir, ec)) {
    if (!o.force) {
      fail("trace directory " + o.trace_dir + " is not empty (an earlier run's trace?); use --force to add to it "
           "or choose another directory");
      return false;
    }
  }
  fs::create_directories(o.trace_dir, ec);
  if (ec) {
    fail("cannot create trace directory " + o.trace_dir + ": " + ec.message());
    return false;
  }
  return true;
}

std::string describe_status(int status, bool timed_out, double timeout_s) {
  char buf[160];
  if (timed_out) {
    std::snprintf(buf, sizeof buf, "did not finish within %g s and was killed (--timeout); its trace up to then is analyzed",
                  timeout_s);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == kDeadlockExitCode) {
    std::snprintf(buf, sizeof buf, "was stopped by the lockgraph watchdog (exit status %d: threads blocked for good)",
                  kDeadlockExitCode);
  } else if (WIFEXITED(status)) {
    std::snprintf(buf, sizeof buf, "exited with status %d", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    std::snprintf(buf, sizeof buf, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else {
    std::snprintf(buf, sizeof buf, "ended with wait status %d", status);
  }
  return buf;
}

int run_program(RunOptions& o) {
  std::string program = resolve_program(o.command[0]);
  if (program.empty()) return fail("cannot run " + o.command[0] + ": not found in PATH");
  if (access(program.c_str(), X_OK) != 0) return fail("cannot run " + program + ": " + std::strerror(errno));
  // The real ThreadSanitizer runtime would take the __tsan_* hooks from ours (and abort under the
  // preload): the usual cause is g++ given -fsanitize=thread on the link line.
  if (file_contains(program, "libtsan.so")) {
    return fail(program + " is linked with libtsan (the real ThreadSanitizer runtime): link it with "
                "`lockgraph config --ldflags` only (for g++, without -fsanitize=thread on the link line)");
  }
  bool preload = !records_itself(program);
  std::string rt;
  if (preload) {
    rt = preload_library_path();
    if (rt.empty()) {
      return fail("cannot find the preload runtime liblockgraph_rt.so next to lockgraph (set LOCKGRAPH_PRELOAD)");
    }
  } else {
    std::fprintf(stderr, "lockgraph: %s records itself (linked with the lockgraph wrappers); not preloading\n",
                 program.c_str());
  }
  bool temporary = false;
  if (!prepare_trace_dir(o, &temporary)) return kExitUsage;

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(report[0]);
    setenv("LOCKGRAPH_TRACE_DIR", o.trace_dir.c_str(), 1);
    if (preload) {
      const char* old = std::getenv("LD_PRELOAD");
      std::string value = rt + (old != nullptr && *old != '\0' ? std::string(":") + old : "");
      setenv("LD_PRELOAD", value.c_str(), 1);
    }
    std::vector<char*> argv;
    for (std::string& a : o.command) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    int err = errno;
    ssize_t unused = write(report[1], &err, sizeof err);
    (void)unused;
    _exit(127);
  }
  close(report[1]);
  g_child = pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  int exec_errno = 0;
  ssize_t got = read(report[0], &exec_errno, sizeof exec_errno);
  close(report[0]);
  if (got == ssize_t(sizeof exec_errno)) {
    waitpid(pid, nullptr, 0);
    if (temporary) fs::remove_all(o.trace_dir);
    return fail("cannot run " + program + ": " + std::strerror(exec_errno));
  }

  int status = 0;
  bool timed_out = false;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid(pid, &status, o.timeout_s > 0 ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(std::string("waitpid: ") + std::strerror(errno));
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = double(now.tv_sec - start.tv_sec) + double(now.tv_nsec - start.tv_nsec) / 1e9;
    if (elapsed >= o.timeout_s) {
      // The trace is a shared file mapping: SIGKILL loses nothing the program recorded.
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      timed_out = true;
      break;
    }
    timespec pause{0, 20'000'000};
    nanosleep(&pause, nullptr);
  }
  g_child = 0;
  std::fprintf(stderr, "lockgraph: %s %s\n", o.command[0].c_str(), describe_status(status, timed_out, o.timeout_s).c_str());

  o.analyze.traces = {o.trace_dir};
  int rc = run_analysis(o.analyze);
  if (temporary && !o.keep_trace) {
    std::error_code ec;
    fs::remove_all(o.trace_dir, ec);
  } else {
    std::fprintf(stderr, "lockgraph: trace kept in %s\n", o.trace_dir.c_str());
  }
  return rc;
}

}  // namespace

Runner add_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run an unmodified program under lockgraph, then report what its threads did.");
  cmd->footer(
      "Example: lockgraph run -- ./server --port 8080\n\n"
      "The program's pthread mutexes, reader-writer and spin locks, condition variables, barriers,\n"
      "POSIX semaphores and threads (so std::mutex, std::shared_mutex, std::condition_variable,\n"
      "std::thread, std::async) are recorded by a preloaded library (LD_PRELOAD); memory accesses\n"
      "are recorded when the program was compiled for it (see `lockgraph config --help`).\n"
      "A deadlock that really happens is stopped by the watchdog (the program exits with 86), and\n"
      "the report explains it. The program's own exit status or signal is shown on stderr.\n\n"
      "Exit codes: those of `lockgraph analyze` for the program's trace: 0 nothing fails the gate,\n"
      "1 findings fail the gate, 2 usage error, program not found, or no readable trace.");
  cmd->add_option("--trace-dir", o->trace_dir,
                  "Write the trace here (kept) instead of a temporary directory (removed after the report)");
  cmd->add_flag("--keep-trace", o->keep_trace, "Keep the temporary trace directory and print its path");
  cmd->add_flag("--force", o->force, "Allow a --trace-dir that already holds files");
  cmd->add_option("--timeout", o->timeout_s,
                  "Kill the program after SECONDS and analyze what it recorded (default: no limit)")
      ->check(CLI::NonNegativeNumber);
  add_analyze_options(cmd, o->analyze);
  add_save_graph_option(cmd, o->analyze);
  add_trace_check_options(cmd, o->analyze);
  cmd->add_option("command", o->command, "The program and its arguments, after --")->required();
  return [o] { return run_program(*o); };
}

}  // namespace lockgraph::cli
