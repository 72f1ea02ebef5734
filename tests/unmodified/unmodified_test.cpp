// Unmodified programs (std:: and pthread only, no lockgraph headers) through the real
// `lockgraph run`: the preload, the instrumentation runtime, the watchdog and the analyzer, with
// the exact expected verdicts. Lines are found by their `// @marker` comments in the sources.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

using nlohmann::json;

const std::string kCli = LOCKGRAPH_CLI;
const std::string kPrograms = LOCKGRAPH_UM_PROGRAMS;
const std::string kSources = LOCKGRAPH_UM_SOURCES;

struct Verdict {
  RunResult run;  // of `lockgraph run`
  json report;
};

// The report goes to a file: the program's own stdout stays on stdout.
std::string report_path(ScratchDir& dir) { return dir / "report.json"; }

Verdict run_under_lockgraph(const std::string& program, const std::string& scenario,
                            const std::vector<std::string>& env = {}) {
  Verdict v;
  ScratchDir dir;
  v.run = run_program({kCli, "run", "--format", "json", "--output", report_path(dir), "--timeout", "120", "--",
                       kPrograms + "/" + program, scenario},
                      env);
  EXPECT_NE(v.run.exit_code, 2) << v.run.err;
  v.report = json::parse(read_text(report_path(dir)), nullptr, false);
  EXPECT_FALSE(v.report.is_discarded()) << v.run.out << v.run.err;
  return v;
}

int marker_line(const std::string& source, const std::string& marker) {
  std::ifstream in(kSources + "/" + source);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find("// @" + marker) != std::string::npos) return n;
  }
  ADD_FAILURE() << "no marker @" << marker << " in " << source;
  return -1;
}

std::vector<json> findings_of(const json& report, const std::string& kind) {
  std::vector<json> out;
  for (const auto& f : report["findings"]) {
    if (f["kind"] == kind) out.push_back(f);
  }
  return out;
}

std::multiset<std::string> kinds(const json& report) {
  std::multiset<std::string> k;
  for (const auto& f : report["findings"]) k.insert(f["kind"].get<std::string>());
  return k;
}

std::set<int> lines_in(const json& finding, const std::string& source) {
  std::set<int> lines;
  for (const auto& l : finding["locations"]) {
    std::string f = l["file"];
    if (f.size() >= source.size() && f.compare(f.size() - source.size(), source.size(), source) == 0) {
      lines.insert(l["line"].get<int>());
    }
  }
  return lines;
}

// The race findings on `variable`, each checked to be between exactly the two marked lines.
void expect_race(const json& report, const std::string& variable, const std::string& source,
                 const std::string& marker_a, const std::string& marker_b) {
  std::set<int> want = {marker_line(source, marker_a), marker_line(source, marker_b)};
  int matched = 0;
  for (const json& f : findings_of(report, "data_race")) {
    if (f["objects"][0] != variable) continue;
    ++matched;
    EXPECT_EQ(lines_in(f, source), want) << f.dump(2);
  }
  EXPECT_GE(matched, 1) << "no data_race on " << variable << "\n" << report.dump(2);
}

std::set<std::string> cycle_locks(const json& finding) {
  std::set<std::string> s;
  for (const auto& n : finding["cycle"]) s.insert(n.get<std::string>());
  return s;
}

// --- races (instrumented) -----------------------------------------------------------------------

TEST(UnmodifiedRaces, UnlockedCounter) {
  Verdict v = run_under_lockgraph("um_races", "counter");
  EXPECT_EQ(v.run.exit_code, 1);
  // How many access pairs race (read/write, write/write) depends on the compiler's code for
  // `counter = counter + 1`; every one must be on counter between the two marked lines.
  std::set<std::string> distinct;
  for (const auto& k : kinds(v.report)) distinct.insert(k);
  EXPECT_EQ(distinct, (std::set<std::string>{"data_race", "unprotected_write"})) << v.report.dump(2);
  EXPECT_EQ(findings_of(v.report, "unprotected_write").size(), 1u);
  expect_race(v.report, "counter", "races.cpp", "counter_thread", "counter_main");
  for (const json& f : findings_of(v.report, "data_race")) EXPECT_EQ(f["objects"][0], "counter");
  // The main thread's access has a short stack: unlocked_counter was called by run_scenario.
  bool called_from_dispatcher = false;
  for (const json& f : findings_of(v.report, "data_race")) {
    for (const auto& l : f["locations"]) {
      if (l["line"] != marker_line("races.cpp", "counter_main") || !l.contains("stack")) continue;
      called_from_dispatcher = l["stack"][0].get<std::string>().find("run_scenario (") == 0 &&
                               l["stack"][0].get<std::string>().find("scenarios.hpp:") != std::string::npos;
    }
  }
  EXPECT_TRUE(called_from_dispatcher) << v.report.dump(2);
}

TEST(UnmodifiedRaces, FlagSpinRacesOnTheFlagAndThePayload) {
  Verdict v = run_under_lockgraph("um_races", "flag_spin");
  EXPECT_EQ(v.run.exit_code, 1);
  EXPECT_EQ(findings_of(v.report, "data_race").size(), 2u) << v.report.dump(2);
  expect_race(v.report, "ready", "races.cpp", "ready_write", "ready_read");
  expect_race(v.report, "payload", "races.cpp", "payload_write", "payload_read");
}

TEST(UnmodifiedRaces, HeapObjectPublishedWithoutSync) {
  Verdict v = run_under_lockgraph("um_races", "publish");
  EXPECT_EQ(v.run.exit_code, 1);
  auto races = findings_of(v.report, "data_race");
  ASSERT_EQ(races.size(), 2u) << v.report.dump(2);
  expect_race(v.report, "published", "races.cpp", "publish_write", "publish_read");
  // The heap field has no name: the other race is between the two marked lines on the field.
  std::set<int> port = {marker_line("races.cpp", "port_write"), marker_line("races.cpp", "port_read")};
  int on_port = 0;
  for (const json& f : races) on_port += lines_in(f, "races.cpp") == port ? 1 : 0;
  EXPECT_EQ(on_port, 1) << v.report.dump(2);
}

TEST(UnmodifiedRaces, WritesUnderDifferentLocks) {
  Verdict v = run_under_lockgraph("um_races", "different_locks");
  EXPECT_EQ(v.run.exit_code, 1);
  expect_race(v.report, "total", "races.cpp", "total_m1", "total_m2");
  std::set<std::string> held;
  for (const json& f : findings_of(v.report, "data_race")) {
    for (const auto& l : f["locations"]) {
      for (const auto& h : l["locks_held"]) held.insert(h.get<std::string>());
    }
  }
  EXPECT_EQ(held, (std::set<std::string>{"m1", "m2"}));
  EXPECT_EQ(findings_of(v.report, "unprotected_write").size(), 1u);
}

// --- clean programs: no finding at all, instrumented or not ---------------------------------------

class UnmodifiedClean : public ::testing::TestWithParam<std::string> {};

TEST_P(UnmodifiedClean, Instrumented) {
  Verdict v = run_under_lockgraph("um_clean", GetParam());
  EXPECT_EQ(v.run.exit_code, 0) << v.run.err;
  EXPECT_TRUE(v.report["findings"].empty()) << v.report.dump(2);
  EXPECT_TRUE(v.report["summary"]["problems"].empty()) << v.report.dump(2);
  EXPECT_NE(v.run.err.find("exited with status 0"), std::string::npos) << v.run.err;
}

TEST_P(UnmodifiedClean, PreloadOnly) {
  Verdict v = run_under_lockgraph("um_clean_plain", GetParam());
  EXPECT_EQ(v.run.exit_code, 0) << v.run.err;
  EXPECT_TRUE(v.report["findings"].empty()) << v.report.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, UnmodifiedClean,
                         ::testing::Values("mutex_counter", "atomics", "cv_handoff", "semaphore", "barrier",
                                           "latch_barrier", "fork_join", "async", "scoped_lock",
                                           "philosophers_ordered"));

// --- lock order (preload only) ------------------------------------------------------------------

TEST(UnmodifiedLockOrder, AbBaStaggered) {
  Verdict v = run_under_lockgraph("um_deadlocks", "abba");
  EXPECT_EQ(v.run.exit_code, 1);
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  const json& d = v.report["findings"][0];
  EXPECT_EQ(cycle_locks(d), (std::set<std::string>{"lock_a", "lock_b"}));
  EXPECT_EQ(lines_in(d, "deadlocks.cpp"),
            (std::set<int>{marker_line("deadlocks.cpp", "abba_t1_a"), marker_line("deadlocks.cpp", "abba_t1_b"),
                           marker_line("deadlocks.cpp", "abba_t2_b"), marker_line("deadlocks.cpp", "abba_t2_a")}));
}

// Both threads take their locks at the same two sites inside transfer(), called from different
// lines: each edge's short stack is its own thread's way there. The locks are the std::mutex
// members of a global array's elements, named from debug info.
TEST(UnmodifiedLockOrder, EachThreadShowsItsOwnCallerOfASharedLockSite) {
  Verdict v = run_under_lockgraph("um_deadlocks", "shared_site");
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  EXPECT_EQ(cycle_locks(v.report["findings"][0]), (std::set<std::string>{"accounts[0].m", "accounts[1].m"}));
  const std::set<int> sites = {marker_line("deadlocks.cpp", "transfer_first"), marker_line("deadlocks.cpp", "transfer_second")};
  std::map<std::string, std::set<int>> callers_by_thread;
  for (const auto& l : v.report["findings"][0]["locations"]) {
    if (sites.count(l["line"].get<int>()) == 0) continue;
    ASSERT_TRUE(l.contains("stack")) << l.dump();
    const std::string caller = l["stack"][0];  // "function (file:line)"
    const auto colon = caller.rfind(':');
    ASSERT_NE(colon, std::string::npos) << caller;
    EXPECT_NE(caller.find("deadlocks.cpp:"), std::string::npos) << caller;
    callers_by_thread[l["thread"]].insert(std::atoi(caller.c_str() + colon + 1));
  }
  ASSERT_EQ(callers_by_thread.size(), 2u) << v.report.dump(2);
  std::set<int> seen;
  for (const auto& [thread, lines] : callers_by_thread) {
    EXPECT_EQ(lines.size(), 1u) << thread << " shown reaching transfer() from two places";
    seen.insert(lines.begin(), lines.end());
  }
  EXPECT_EQ(seen, (std::set<int>{marker_line("deadlocks.cpp", "transfer_caller_1"),
                                 marker_line("deadlocks.cpp", "transfer_caller_2")}));
}

TEST(UnmodifiedLockOrder, ThreeLockCycle) {
  Verdict v = run_under_lockgraph("um_deadlocks", "three_cycle");
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  EXPECT_EQ(cycle_locks(v.report["findings"][0]), (std::set<std::string>{"lock_a", "lock_b", "lock_c"}));
}

TEST(UnmodifiedLockOrder, DiningPhilosophersLeftThenRight) {
  Verdict v = run_under_lockgraph("um_deadlocks", "philosophers");
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  EXPECT_EQ(cycle_locks(v.report["findings"][0]),
            (std::set<std::string>{"forks[0]", "forks[1]", "forks[2]", "forks[3]", "forks[4]"}));
}

TEST(UnmodifiedLockOrder, SharedExclusiveInversion) {
  Verdict v = run_under_lockgraph("um_deadlocks", "shared_exclusive");
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  EXPECT_EQ(cycle_locks(v.report["findings"][0]), (std::set<std::string>{"table_lock", "stats_lock"}));
}

TEST(UnmodifiedLockOrder, OneInversionAmongTwoThousandLocks) {
  Verdict v = run_under_lockgraph("um_deadlocks", "many_locks");
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  EXPECT_EQ(v.report["findings"][0]["cycle"].size(), 3u);
}

TEST(UnmodifiedLockOrder, InversionInAForkedChildOnInheritedLocks) {
  Verdict v = run_under_lockgraph("um_deadlocks", "forked_child_abba");
  EXPECT_EQ(v.run.exit_code, 1);
  EXPECT_EQ(v.report["summary"]["processes"], 2);
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_potential"}) << v.report.dump(2);
  const json& d = v.report["findings"][0];
  EXPECT_EQ(cycle_locks(d), (std::set<std::string>{"lock_a", "lock_b"}));  // named in the child too
  EXPECT_TRUE(d.contains("process")) << d.dump(2);
  EXPECT_TRUE(v.report["summary"]["problems"].empty()) << v.report.dump(2);
}

TEST(UnmodifiedLockOrder, GateLockIsNoDeadlock) {
  Verdict v = run_under_lockgraph("um_deadlocks", "gate_lock");
  EXPECT_EQ(v.run.exit_code, 0);
  EXPECT_TRUE(v.report["findings"].empty()) << v.report.dump(2);
}

TEST(UnmodifiedLockOrder, JoinOrderedInversionIsOnlyAnInversion) {
  Verdict v = run_under_lockgraph("um_deadlocks", "join_ordered");
  EXPECT_EQ(v.run.exit_code, 0);  // lock_order_inversion does not fail the default gate
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"lock_order_inversion"}) << v.report.dump(2);
  EXPECT_EQ(cycle_locks(v.report["findings"][0]), (std::set<std::string>{"lock_a", "lock_b"}));
}

TEST(UnmodifiedLockOrder, TryLockBackOffIsNoDeadlock) {
  Verdict v = run_under_lockgraph("um_deadlocks", "trylock_backoff");
  EXPECT_EQ(v.run.exit_code, 0);
  EXPECT_TRUE(v.report["findings"].empty()) << v.report.dump(2);
}

TEST(UnmodifiedLockOrder, ReaderReaderIsNoDeadlock) {
  Verdict v = run_under_lockgraph("um_deadlocks", "reader_reader");
  EXPECT_EQ(v.run.exit_code, 0);
  EXPECT_TRUE(v.report["findings"].empty()) << v.report.dump(2);
}

// --- real deadlocks and misuse: never a hang ------------------------------------------------------

TEST(UnmodifiedHangs, SelfRelockIsStoppedAndExplained) {
  Verdict v = run_under_lockgraph("um_hangs", "self_relock");
  EXPECT_EQ(v.run.exit_code, 1);
  EXPECT_NE(v.run.err.find("stopped by the lockgraph watchdog"), std::string::npos) << v.run.err;
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"deadlock_actual"}) << v.report.dump(2);
  const json& d = v.report["findings"][0];
  EXPECT_EQ(d["cycle"], json({"solo", "solo"}));
  EXPECT_EQ(lines_in(d, "hangs.cpp"),
            (std::set<int>{marker_line("hangs.cpp", "relock_first"), marker_line("hangs.cpp", "relock_second")}));
}

TEST(UnmodifiedHangs, AbBaThatAlwaysHangs) {
  Verdict v = run_under_lockgraph("um_hangs", "abba_hang");
  EXPECT_EQ(v.run.exit_code, 1);
  auto actual = findings_of(v.report, "deadlock_actual");
  ASSERT_EQ(actual.size(), 1u) << v.report.dump(2);
  EXPECT_EQ(cycle_locks(actual[0]), (std::set<std::string>{"left", "right"}));
  std::set<int> lines = lines_in(actual[0], "hangs.cpp");
  EXPECT_TRUE(lines.count(marker_line("hangs.cpp", "hang_t1_waits"))) << actual[0].dump(2);
  EXPECT_TRUE(lines.count(marker_line("hangs.cpp", "hang_t2_waits"))) << actual[0].dump(2);
  EXPECT_EQ(findings_of(v.report, "deadlock_potential").size(), 1u);
  // The watchdog's live lines name each waiting site as module+offset, what addr2line takes.
  EXPECT_NE(v.run.err.find("waits for lock at um_hangs+0x"), std::string::npos) << v.run.err;
}

TEST(UnmodifiedHangs, ThreadExitedHoldingALockAnotherWaitsFor) {
  // The watchdog needs no stall timeout for this one: the owner is gone (default stall: 3 s).
  Verdict v = run_under_lockgraph("um_hangs", "exit_holding", {"LOCKGRAPH_STALL_MS=600000"});
  EXPECT_NE(v.run.err.find("lock held by an exited thread"), std::string::npos) << v.run.err;
  EXPECT_EQ(v.run.exit_code, 1);
  EXPECT_EQ(kinds(v.report), (std::multiset<std::string>{"deadlock_actual", "lock_misuse"})) << v.report.dump(2);
  auto misuse = findings_of(v.report, "lock_misuse");
  ASSERT_EQ(misuse.size(), 1u);
  EXPECT_NE(misuse[0]["message"].get<std::string>().find("exited while holding orphan"), std::string::npos)
      << misuse[0].dump(2);
  EXPECT_EQ(lines_in(misuse[0], "hangs.cpp"), std::set<int>{marker_line("hangs.cpp", "orphan_lock")});
  auto actual = findings_of(v.report, "deadlock_actual");
  ASSERT_EQ(actual.size(), 1u);
  EXPECT_NE(actual[0]["message"].get<std::string>().find("waits forever for orphan: thread 2 exited while holding it"),
            std::string::npos)
      << actual[0].dump(2);
  EXPECT_EQ(lines_in(actual[0], "hangs.cpp"),
            (std::set<int>{marker_line("hangs.cpp", "orphan_lock"), marker_line("hangs.cpp", "orphan_wait")}));
}

TEST(UnmodifiedMisuse, UnlockOfAnUnlockedMutex) {
  Verdict v = run_under_lockgraph("um_hangs", "unlock_unlocked");
  EXPECT_EQ(v.run.exit_code, 1);
  ASSERT_EQ(kinds(v.report), std::multiset<std::string>{"lock_misuse"}) << v.report.dump(2);
  EXPECT_EQ(lines_in(v.report["findings"][0], "hangs.cpp"), std::set<int>{marker_line("hangs.cpp", "bad_unlock")});
}

// --- the run command itself ----------------------------------------------------------------------

TEST(RunCommand, ProgramNotFoundIsAUsageError) {
  RunResult r = run_program({kCli, "run", "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot run /nonexistent/program"), std::string::npos) << r.err;
}

TEST(RunCommand, CrashingProgramIsReportedAndItsTraceAnalyzed) {
  ScratchDir dir;
  std::string src = dir / "crash.cpp", bin = dir / "crash";
  write_text(src,
             "#include <mutex>\n#include <thread>\n#include <csignal>\nstd::mutex a, b;\n"
             "int main() { std::thread t([] { std::lock_guard<std::mutex> x(a); std::lock_guard<std::mutex> y(b); });\n"
             " t.join(); { std::lock_guard<std::mutex> y(b); std::lock_guard<std::mutex> x(a); }\n"
             " std::raise(SIGSEGV); }\n");
  ASSERT_EQ(run_program({"c++", "-g", "-pthread", src, "-o", bin}).exit_code, 0);
  RunResult r = run_program({kCli, "run", "--format", "json", "--output", dir / "report.json", "--", bin});
  EXPECT_NE(r.err.find("was killed by signal 11"), std::string::npos) << r.err;
  json report = json::parse(read_text(dir / "report.json"));
  // Everything before the crash was analyzed: the join-ordered inversion is there.
  EXPECT_EQ(kinds(report), std::multiset<std::string>{"lock_order_inversion"}) << report.dump(2);
}

TEST(RunCommand, TimeoutKillsAHangThatTheWatchdogCannotSee) {
  ScratchDir dir;
  std::string src = dir / "sleeper.cpp", bin = dir / "sleeper";
  write_text(src, "#include <unistd.h>\nint main() { for (;;) pause(); }\n");
  ASSERT_EQ(run_program({"c++", src, "-o", bin}).exit_code, 0);
  RunResult r = run_program({kCli, "run", "--timeout", "0.5", "--", bin});
  EXPECT_NE(r.err.find("did not finish within 0.5 s"), std::string::npos) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;  // nothing wrong in what it recorded
}

TEST(RunCommand, KeptTraceDirectoryIsNeverOverwritten) {
  ScratchDir dir;
  std::string trace = dir / "trace";
  RunResult first = run_program({kCli, "run", "--trace-dir", trace, "--", kPrograms + "/um_deadlocks", "gate_lock"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  RunResult second = run_program({kCli, "run", "--trace-dir", trace, "--", kPrograms + "/um_deadlocks", "gate_lock"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("is not empty"), std::string::npos) << second.err;
}

TEST(ConfigCommand, FlagsFollowTheCompiler) {
  RunResult gcc = run_program({kCli, "config", "--ldflags", "--compiler", "g++"});
  RunResult clang = run_program({kCli, "config", "--ldflags"}, {"CXX=clang++-14"});
  ASSERT_EQ(gcc.exit_code, 0);
  ASSERT_EQ(clang.exit_code, 0);
  EXPECT_EQ(gcc.out.find("-fsanitize"), std::string::npos) << gcc.out;
  EXPECT_NE(clang.out.find("-fno-sanitize-link-runtime"), std::string::npos) << clang.out;
  EXPECT_NE(gcc.out.find("-llockgraph_rt"), std::string::npos) << gcc.out;
  RunResult cxx = run_program({kCli, "config", "--cxxflags"});
  EXPECT_EQ(cxx.out, "-fsanitize=thread -g\n");
}

}  // namespace
}  // namespace lockgraph::testing
