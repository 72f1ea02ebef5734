// Every lecture demo, run for real under the tracer, analyzed by the real CLI: exact findings
// (kind, objects, source lines) and the program's own result.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

using nlohmann::json;

const std::string kCli = LOCKGRAPH_CLI;
const std::string kDemos = LOCKGRAPH_DEMOS;
const std::string kSources = LOCKGRAPH_SOURCE_DIR "/demos/";

// The line of `file` (under demos/) that holds `snippet` (after `anchor`); fails the test if none.
int line_of(const std::string& file, const std::string& snippet, const std::string& anchor = "") {
  int n = source_line(kSources + file, snippet, anchor);
  EXPECT_NE(n, 0) << snippet << " in " << file;
  return n;
}

struct DemoRun {
  RunResult program;
  json report;
  int analyze_exit = -1;
};

DemoRun run_demo(const std::string& demo, const std::vector<std::string>& args) {
  ScratchDir dir;
  DemoRun d;
  std::vector<std::string> argv{kDemos + "/" + demo};
  argv.insert(argv.end(), args.begin(), args.end());
  d.program = run_program(argv, {"LOCKGRAPH_TRACE_DIR=" + dir.path() + "/trace"});
  RunResult a = run_program({kCli, "analyze", dir.path() + "/trace", "--format", "json"});
  d.analyze_exit = a.exit_code;
  EXPECT_NE(a.exit_code, 2) << a.err;
  d.report = json::parse(a.out);
  return d;
}

std::multiset<std::string> kinds(const json& report) {
  std::multiset<std::string> k;
  for (const auto& f : report["findings"]) k.insert(f["kind"].get<std::string>());
  return k;
}

std::set<int> lines(const json& finding) {
  std::set<int> s;
  for (const auto& l : finding["locations"]) s.insert(l["line"].get<int>());
  return s;
}

TEST(Demos, RaceUnlockedLosesUpdatesAndReportsTheRaceOnMoney) {
  auto d = run_demo("race", {"--mode", "unlocked"});
  ASSERT_EQ(d.program.exit_code, 0) << d.program.err;
  EXPECT_NE(d.program.out.find("final money = 98"), std::string::npos) << d.program.out;
  int read = line_of("race.cpp", "int m = money.get();  // read");
  int write = line_of("race.cpp", "money.set(m - 1);     // write");
  EXPECT_EQ(d.analyze_exit, 1);
  int races = 0;
  for (const auto& f : d.report["findings"]) {
    if (f["kind"] != "data_race") continue;
    ++races;
    EXPECT_EQ(f["objects"], json({"money"}));
    for (int l : lines(f)) EXPECT_TRUE(l == read || l == write) << f.dump(2);
    EXPECT_TRUE(lines(f).count(write)) << f.dump(2);
  }
  EXPECT_EQ(races, 2) << "write/read and write/write";
}

TEST(Demos, RaceWithLockOrGuardIsCleanAndCorrect) {
  for (const char* mode : {"lock", "guard"}) {
    auto d = run_demo("race", {"--mode", mode});
    EXPECT_NE(d.program.out.find("final money = -1"), std::string::npos) << mode << d.program.out;
    EXPECT_TRUE(d.report["findings"].empty()) << mode << d.report.dump(2);
    EXPECT_EQ(d.analyze_exit, 0);
  }
}

TEST(Demos, DeadlockHangsForRealAndTheWatchdogEndsIt) {
  auto d = run_demo("deadlock", {});
  EXPECT_EQ(d.program.exit_code, 86) << d.program.out << d.program.err;
  EXPECT_EQ(kinds(d.report), (std::multiset<std::string>{"deadlock_actual", "deadlock_potential"}));
  for (const auto& f : d.report["findings"]) {
    EXPECT_EQ(std::set<std::string>(f["objects"].begin(), f["objects"].end()), (std::set<std::string>{"A", "B"}));
    EXPECT_EQ(f["threads"].size(), 2u);
  }
}

TEST(Demos, DeadlockStaggeredCompletesButThePotentialDeadlockIsReported) {
  auto d = run_demo("deadlock", {"--mode", "staggered"});
  EXPECT_EQ(d.program.exit_code, 0);
  EXPECT_NE(d.program.out.find("all threads finished"), std::string::npos);
  ASSERT_EQ(kinds(d.report), (std::multiset<std::string>{"deadlock_potential"}));
  const json& f = d.report["findings"][0];
  EXPECT_EQ(f["cycle"], json({"A", "B", "A"}));
  EXPECT_EQ(f["locations"].size(), 4u);
  for (const auto& t : f["threads"]) {  // lockgraph::set_thread_name shows in the report
    EXPECT_NE(t.get<std::string>().find(" (worker "), std::string::npos) << t;
  }
  for (const auto& l : f["locations"]) {
    std::string fn = l["function"];
    EXPECT_TRUE(fn == "func_one" || fn == "func_two") << fn;
  }
}

TEST(Demos, RecursiveLockFixIsClean) {
  auto d = run_demo("rlock", {});
  EXPECT_EQ(d.program.exit_code, 0);
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
}

// LOCKGRAPH_DISABLE=1: the wrappers behave as the std types (a recursive mutex still counts its
// re-entries, a plain one still excludes) and nothing is written.
TEST(Demos, DisabledTracingKeepsTheSemanticsAndWritesNothing) {
  ScratchDir dir;
  const std::string trace = dir.path() + "/trace";
  RunResult r = run_program({kDemos + "/rlock"}, {"LOCKGRAPH_TRACE_DIR=" + trace, "LOCKGRAPH_DISABLE=1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_occurrences(r.out, "func_two got B and A"), 5u) << r.out;  // all five workers re-entered and finished
  RunResult race = run_program({kDemos + "/race", "--mode", "lock"}, {"LOCKGRAPH_TRACE_DIR=" + trace, "LOCKGRAPH_DISABLE=1"});
  EXPECT_EQ(race.exit_code, 0) << race.err;
  EXPECT_NE(race.out.find("final money = -1"), std::string::npos) << race.out;  // no update lost
  EXPECT_FALSE(std::filesystem::exists(trace)) << "a disabled run created " << trace;
}

TEST(Demos, PoolResultsCallbacksShutdownClean) {
  auto d = run_demo("pools", {});
  EXPECT_EQ(d.program.exit_code, 0);
  EXPECT_NE(d.program.out.find("results: [0, 2, 6, 12, 20]"), std::string::npos) << d.program.out;
  int callbacks = 0;
  for (std::size_t p = d.program.out.find("callback:"); p != std::string::npos; p = d.program.out.find("callback:", p + 1)) ++callbacks;
  EXPECT_EQ(callbacks, 5);
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
}

TEST(Demos, PoolStarvationIsAnActualDeadlockNamingThePool) {
  auto d = run_demo("pools", {"--mode", "starvation"});
  EXPECT_EQ(d.program.exit_code, 86);
  ASSERT_EQ(kinds(d.report), (std::multiset<std::string>{"deadlock_actual"}));
  const json& f = d.report["findings"][0];
  EXPECT_EQ(f["threads"].size(), 6u);  // main + 5 workers
  for (const auto& o : f["objects"]) EXPECT_EQ(o, "task result of pool pool");
}

TEST(Demos, SemaphoreNeverLetsMoreThanThreeIn) {
  auto d = run_demo("semaphore", {});
  EXPECT_EQ(d.program.exit_code, 0);
  EXPECT_NE(d.program.out.find("max inside = 3"), std::string::npos) << d.program.out;
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
}

TEST(Demos, EventTrafficLightIsClean) {
  auto d = run_demo("event", {"--cars", "4", "--police", "2"});
  EXPECT_EQ(d.program.exit_code, 0);
  int passed = 0;
  for (std::size_t p = d.program.out.find("passes"); p != std::string::npos; p = d.program.out.find("passes", p + 1)) ++passed;
  EXPECT_EQ(passed, 6);
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
}

TEST(Demos, SemaphoreWithProcessesSharesOneSemaphoreAcrossTraceFiles) {
  ScratchDir dir;
  RunResult p = run_program({kDemos + "/semaphore", "--processes", "--users", "12"},
                            {"LOCKGRAPH_TRACE_DIR=" + dir.path() + "/trace"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("processes: users = 12, stalls = 3, max inside = 3"), std::string::npos) << p.out;
  RunResult a = run_program({kCli, "analyze", dir.path() + "/trace", "--format", "json"});
  json report = json::parse(a.out);
  EXPECT_EQ(report["summary"]["processes"], 13);
  EXPECT_TRUE(report["findings"].empty()) << report.dump(2);
  EXPECT_TRUE(report["summary"]["problems"].empty()) << report.dump(2);
}

TEST(Demos, EventWithProcessesIsClean) {
  auto d = run_demo("event", {"--processes", "--cars", "3", "--police", "1"});
  EXPECT_EQ(d.program.exit_code, 0);
  int passed = 0;
  for (std::size_t p = d.program.out.find("passes"); p != std::string::npos; p = d.program.out.find("passes", p + 1)) ++passed;
  EXPECT_EQ(passed, 4);
  EXPECT_EQ(d.report["summary"]["processes"], 6);
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
}

TEST(Demos, GilTableHasEveryVariantAndNoFindings) {
  auto d = run_demo("gil", {"--tasks", "2", "--factorial", "2000", "--io-ms", "20"});
  EXPECT_EQ(d.program.exit_code, 0) << d.program.err;
  for (const char* s : {"sequential", "threads (GIL)", "threads (no GIL)", "processes", "\ncpu ", "\nio "}) {
    EXPECT_NE(d.program.out.find(s), std::string::npos) << s << "\n" << d.program.out;
  }
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
}

TEST(Demos, GilIsHeldMostOfTheRunAndTheThreadsWaitForIt) {
  ScratchDir dir;
  // Long enough (about 0.2 s) that process start and thread creation, which the GIL does not cover
  // and which stretch under load, stay a few percent of the run (8000 gave 85% idle, 75% loaded).
  RunResult p = run_program({kDemos + "/gil", "--mode", "gil-threads", "--tasks", "2", "--factorial", "16000"},
                            {"LOCKGRAPH_TRACE_DIR=" + dir.path() + "/trace", "LOCKGRAPH_TIMING=all"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  RunResult s = run_program({kCli, "stats", dir.path() + "/trace"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::size_t at = s.out.find("\n  GIL ");
  ASSERT_NE(at, std::string::npos) << s.out;
  std::string line = s.out.substr(at + 1, s.out.find('\n', at + 1) - at - 1);
  double held = std::stod(line.substr(line.rfind(' ', line.size() - 2) + 1));
  EXPECT_GT(held, 80.0) << line;
  std::istringstream fields(line);
  std::string name;
  unsigned long acquired = 0, contended = 0;
  fields >> name >> acquired >> contended;
  EXPECT_GT(contended, 0u) << line;
}

TEST(Demos, CrawlerUnlockedCounterRacesAndTheIndexIsComplete) {
  ScratchDir out;
  auto d = run_demo("crawler", {"--mode", "threads", "--count", "unlocked", "--delay-ms", "5", "--out", out.path()});
  ASSERT_EQ(d.program.exit_code, 0) << d.program.err;
  json index = json::parse(read_text(out / "index.json"));
  EXPECT_EQ(index.size(), 20u);  // 5 listing pages x 4
  EXPECT_NE(index["Wallpaper 503"].get<std::string>().find("/uploads/allimg/503.jpg"), std::string::npos);
  EXPECT_EQ(read_text(out / "503.jpg").size(), 32u * 1024u);
  EXPECT_NE(d.program.out.find("threads"), std::string::npos);
  int line = line_of("crawler.cpp", "count.set(count.get() + 1);  // the lecture's `count += 1`, unlocked");
  int races = 0;
  for (const auto& f : d.report["findings"]) {
    if (f["kind"] != "data_race") continue;
    ++races;
    EXPECT_EQ(f["objects"], json({"count"}));
    EXPECT_EQ(lines(f), (std::set<int>{line}));
  }
  EXPECT_GE(races, 1) << d.report.dump(2);
}

TEST(Demos, CrawlerLockedCounterIsCleanInEveryMode) {
  ScratchDir out;
  auto d = run_demo("crawler", {"--mode", "all", "--count", "locked", "--delay-ms", "5", "--out", out.path()});
  ASSERT_EQ(d.program.exit_code, 0) << d.program.err;
  for (const char* row : {"\nsequential ", "\nthreads ", "\nprocesses "}) EXPECT_NE(d.program.out.find(row), std::string::npos) << row;
  EXPECT_NE(d.program.out.find("its own copy of count"), std::string::npos);
  EXPECT_TRUE(d.report["findings"].empty()) << d.report.dump(2);
  EXPECT_EQ(d.report["summary"]["processes"], 5);  // the crawler and its 4 download processes
}

TEST(Demos, EveryDemoHasHelp) {
  ScratchDir trace;  // the demos link the runtime: without this, --help left a trace in the working directory
  for (const char* demo : {"race", "deadlock", "rlock", "pools", "semaphore", "event", "gil", "crawler"}) {
    RunResult h = run_program({kDemos + "/" + demo, "--help"}, {"LOCKGRAPH_TRACE_DIR=" + trace.path()});
    EXPECT_EQ(h.exit_code, 0) << demo;
    EXPECT_NE(h.out.find("Expected:"), std::string::npos) << demo;
  }
}

}  // namespace
}  // namespace lockgraph::testing
