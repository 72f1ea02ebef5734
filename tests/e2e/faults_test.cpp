// Faults of the traced program, end to end: whatever ends it, nothing recorded before the fault
// is lost (exact record counts), and the analyzer says what happened.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <csignal>
#include <thread>
#include <regex>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

using nlohmann::json;

const std::string kCli = LOCKGRAPH_CLI;
const std::string kPrograms = LOCKGRAPH_E2E_PROGRAMS;

struct Faulted {
  ScratchDir dir;
  RunResult program;
  RunResult analysis;
  json report;
  std::string trace() const { return dir.path() + "/trace"; }
  std::uint64_t records(const std::string& kind) const { return dumped_records(kCli, trace(), kind); }

  std::string problems() const { return report["summary"]["problems"].dump(); }
};

std::unique_ptr<Faulted> fault(const std::string& mode) {
  auto f = std::make_unique<Faulted>();
  f->program = run_program({kPrograms + "/e2e_faults", mode}, {"LOCKGRAPH_TRACE_DIR=" + f->trace()});
  f->analysis = run_program({kCli, "analyze", f->trace(), "--format", "json"});
  EXPECT_NE(f->analysis.exit_code, 2) << f->analysis.err;
  f->report = json::parse(f->analysis.out);
  return f;
}

const char* kNoTrailer = "no trailer: the process did not exit cleanly";
// Programs linked with the wrappers cannot intercept _exit() or exec(): those files end without
// a trailer, with every record before intact, and the analyzer says so.

TEST(Faults, AbortLosesNothingAndIsSaid) {
  auto f = fault("abort");
  EXPECT_EQ(f->program.signal, SIGABRT);
  EXPECT_EQ(f->records("lock_acquired"), 200u);
  EXPECT_NE(f->problems().find(kNoTrailer), std::string::npos) << f->problems();
}

TEST(Faults, SegfaultLosesNothingAndIsSaid) {
  auto f = fault("segv");
  EXPECT_EQ(f->program.signal, SIGSEGV);
  EXPECT_EQ(f->records("lock_acquired"), 200u);
  EXPECT_NE(f->problems().find(kNoTrailer), std::string::npos) << f->problems();
}

TEST(Faults, UnderscoreExitLosesNothingAndIsSaid) {
  auto f = fault("_exit");
  EXPECT_EQ(f->program.exit_code, 3);
  EXPECT_EQ(f->records("lock_acquired"), 200u);
  EXPECT_NE(f->problems().find(kNoTrailer), std::string::npos) << f->problems();
}

TEST(Faults, ExitWithAThreadStillRunningKeepsItsRecords) {
  auto f = fault("running");
  EXPECT_EQ(f->program.exit_code, 0) << f->program.err;
  EXPECT_EQ(f->records("lock_acquired"), 300u);  // + 100 by the thread left running
  EXPECT_EQ(f->records("thread_start"), 4u);
  EXPECT_EQ(f->records("thread_end"), 3u) << "the running thread never ended";
  EXPECT_EQ(f->problems().find(kNoTrailer), std::string::npos) << "exit() is clean: " << f->problems();
}

TEST(Faults, DiskFullKeepsTheProgramRunningAndSaysWhereTheTraceStops) {
  auto f = fault("diskfull");
  EXPECT_EQ(f->program.exit_code, 0) << f->program.err;
  EXPECT_EQ(f->program.out, "still running\n");
  EXPECT_EQ(f->records("lock_acquired") >= 200u, true);
  EXPECT_LT(f->records("lock_acquired"), 300200u) << "the trace ran out of space";
  std::string p = f->problems();
  EXPECT_NE(p.find("records could not be written (trace space exhausted from "), std::string::npos) << p;
  EXPECT_NE(p.find("everything recorded before that is complete"), std::string::npos) << p;
  // The 200 acquisitions before the disk filled are all there, in both threads.
  RunResult d = run_program({kCli, "dump", f->trace()});
  std::string name = "name=before";
  EXPECT_NE(d.out.find(name), std::string::npos);
  RunResult stats = run_program({kCli, "stats", f->trace()});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(stats.out, m, std::regex("\\n  before +([0-9]+) "))) << stats.out;
  EXPECT_EQ(m[1], "200") << "all 200 acquisitions of 'before' made before the disk filled";
}

TEST(Faults, ForkWithoutExecGivesTheChildItsOwnCompleteFile) {
  auto f = fault("fork");
  EXPECT_EQ(f->program.exit_code, 0) << f->program.err;
  EXPECT_EQ(f->report["summary"]["processes"], 2);
  EXPECT_EQ(f->records("lock_acquired"), 300u);  // 200 in the parent + 100 in the child
  EXPECT_EQ(f->problems().find(kNoTrailer), std::string::npos) << f->problems();
}

TEST(Faults, ForkThenExecRecordsTheNewProgramToo) {
  auto f = fault("forkexec");
  EXPECT_EQ(f->program.exit_code, 0) << f->program.err;
  // The parent, the forked child up to its exec (no trailer: exec replaced it), the new program.
  EXPECT_EQ(f->report["summary"]["processes"], 3);
  EXPECT_EQ(f->records("lock_acquired"), 300u);  // 200 in the parent + 100 after exec
  std::string p = f->problems();
  EXPECT_NE(p.find(kNoTrailer), std::string::npos) << p;
  EXPECT_EQ(p.find(kNoTrailer), p.rfind(kNoTrailer)) << "only the pre-exec file lacks a trailer: " << p;
}

// Trace directory safety: owner-only files, and two programs tracing into one directory at the
// same time each get their own complete file (files are named by pid and created O_EXCL).
TEST(TraceDirectory, OwnerOnlyFilesAndConcurrentRunsDoNotCollide) {
  ScratchDir dir;
  RunResult a, b;
  std::thread one([&] { a = run_program({kPrograms + "/e2e_faults", "fork"}, {"LOCKGRAPH_TRACE_DIR=" + dir / "t"}); });
  std::thread two([&] { b = run_program({kPrograms + "/e2e_faults", "fork"}, {"LOCKGRAPH_TRACE_DIR=" + dir / "t"}); });
  one.join();
  two.join();
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  RunResult ls = run_program({"/bin/sh", "-c", "ls " + dir / "t"});
  std::size_t files = 0;
  for (std::size_t at = ls.out.find(".trace"); at != std::string::npos; at = ls.out.find(".trace", at + 1)) ++files;
  EXPECT_EQ(files, 4u) << ls.out;  // two parents, two children
  std::string first = dir / "t" + "/" + ls.out.substr(0, ls.out.find('\n'));
  struct stat st {};
  ASSERT_EQ(stat(first.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  RunResult d = run_program({kCli, "dump", "--stats", dir / "t"});
  EXPECT_TRUE(std::regex_search(d.out, std::regex("\\n  lock_acquired +600\\n"))) << d.out.substr(0, 400);
  // Several runs in one directory are analyzed, with a warning saying so.
  RunResult r = run_program({kCli, "analyze", dir / "t"});
  EXPECT_NE(r.err.find("unrelated process trees"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lockgraph::testing
