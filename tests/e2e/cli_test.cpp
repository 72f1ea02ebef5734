// End to end: real programs built on the wrappers -> real tracer -> real `lockgraph analyze`,
// checking the exact findings, the report formats, the gate and the error paths.
#include <gtest/gtest.h>

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

using nlohmann::json;

const std::string kCli = LOCKGRAPH_CLI;
const std::string kPrograms = LOCKGRAPH_E2E_PROGRAMS;

struct Traced {
  ScratchDir dir;
  RunResult program;
  std::string trace() const { return dir.path() + "/trace"; }
};

std::unique_ptr<Traced> trace_program(const std::string& name, std::vector<std::string> args = {}) {
  auto t = std::make_unique<Traced>();
  std::vector<std::string> argv{kPrograms + "/" + name};
  argv.insert(argv.end(), args.begin(), args.end());
  t->program = run_program(argv, {"LOCKGRAPH_TRACE_DIR=" + t->trace()});
  return t;
}

json analyze_json(const std::string& trace, RunResult* raw = nullptr, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{kCli, "analyze", trace, "--format", "json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult r = run_program(argv);
  if (raw) *raw = r;
  EXPECT_NE(r.exit_code, 2) << r.err;
  return json::parse(r.out);
}

std::vector<json> findings_of(const json& report, const std::string& kind) {
  std::vector<json> out;
  for (const auto& f : report["findings"]) {
    if (f["kind"] == kind) out.push_back(f);
  }
  return out;
}

bool has_location(const json& finding, const std::string& file_suffix, int line) {
  for (const auto& l : finding["locations"]) {
    std::string f = l["file"];
    if (f.size() >= file_suffix.size() && f.compare(f.size() - file_suffix.size(), file_suffix.size(), file_suffix) == 0 &&
        l["line"] == line) {
      return true;
    }
  }
  return false;
}

TEST(EndToEnd, StaggeredAbBaIsAPotentialDeadlockAndFailsTheGate) {
  auto t = trace_program("e2e_abba_staggered");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  RunResult raw;
  json report = analyze_json(t->trace(), &raw);
  EXPECT_EQ(raw.exit_code, 1);
  auto d = findings_of(report, "deadlock_potential");
  ASSERT_EQ(d.size(), 1u) << report.dump(2);
  EXPECT_EQ(report["findings"].size(), 1u) << report.dump(2);
  EXPECT_EQ(d[0]["cycle"], json({"A", "B", "A"}));
  EXPECT_TRUE(has_location(d[0], "abba_staggered.cpp", 12));
  EXPECT_TRUE(has_location(d[0], "abba_staggered.cpp", 13));
  EXPECT_TRUE(has_location(d[0], "abba_staggered.cpp", 19));
  EXPECT_TRUE(has_location(d[0], "abba_staggered.cpp", 20));
  EXPECT_EQ(report["summary"]["passed"], false);
}

// Locks made by std::make_unique (not inlined into main by g++: one template body, two callers)
// and std::optional::emplace (inlined), and a semaphore made by std::make_unique, are named after
// the program's lines, each its own; built with -O2 and with -O0 (nothing inlined).
class LibraryMadeLocks : public ::testing::TestWithParam<const char*> {};

TEST_P(LibraryMadeLocks, AreNamedAfterTheProgramsLines) {
  auto t = trace_program(GetParam());
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  json report = analyze_json(t->trace());
  EXPECT_EQ(report["findings"].size(), 2u) << report.dump(2);
  auto misuse = findings_of(report, "lock_misuse");
  ASSERT_EQ(misuse.size(), 1u) << report.dump(2);
  ASSERT_EQ(misuse[0]["objects"].size(), 1u);
  const std::string semaphore = misuse[0]["objects"][0];
  EXPECT_EQ(semaphore.rfind("semaphore@", 0), 0u) << semaphore;
  EXPECT_TRUE(semaphore.ends_with("/heap_locks.cpp:18")) << semaphore;
  auto d = findings_of(report, "deadlock_potential");
  ASSERT_EQ(d.size(), 1u) << report.dump(2);
  const json& cycle = d[0]["cycle"];
  ASSERT_EQ(cycle.size(), 4u) << cycle.dump();
  std::set<std::string> lines;
  for (std::size_t i = 0; i + 1 < cycle.size(); ++i) {
    const std::string name = cycle[i];
    ASSERT_EQ(name.rfind("mutex@", 0), 0u) << name;
    ASSERT_NE(name.find("heap_locks.cpp:"), std::string::npos) << name;
    lines.insert(name.substr(name.find("heap_locks.cpp:") + std::strlen("heap_locks.cpp:")));
  }
  EXPECT_EQ(lines, (std::set<std::string>{"15", "16", "17"})) << cycle.dump();
}

INSTANTIATE_TEST_SUITE_P(EndToEnd, LibraryMadeLocks, ::testing::Values("e2e_heap_locks", "e2e_heap_locks_O0"));

TEST(EndToEnd, UnlockedCounterRacesOnItsName) {
  auto t = trace_program("e2e_counter", {"race"});
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  json report = analyze_json(t->trace());
  auto races = findings_of(report, "data_race");
  ASSERT_FALSE(races.empty()) << report.dump(2);
  for (const auto& r : races) {
    EXPECT_EQ(r["objects"], json({"counter"}));
    for (const auto& l : r["locations"]) EXPECT_EQ(l["line"], 16) << r.dump(2);
  }
  EXPECT_TRUE(findings_of(report, "deadlock_potential").empty());
}

// A symbolizer that is missing or dies at once (its pipe closes under the analyzer's write) costs
// the names of return-address sites, never the analysis: no SIGPIPE, the same findings.
TEST(EndToEnd, ABrokenSymbolizerOnlyLeavesSitesUnnamed) {
  auto t = trace_program("e2e_counter", {"race"});
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  for (const char* tool : {"/nonexistent/llvm-symbolizer", "/bin/false"}) {
    RunResult r = run_program({kCli, "analyze", t->trace(), "--format", "json"},
                              {std::string("LOCKGRAPH_SYMBOLIZER=") + tool});
    EXPECT_EQ(r.exit_code, 1) << tool << ": " << r.err;
    json report = json::parse(r.out);
    auto races = findings_of(report, "data_race");
    ASSERT_FALSE(races.empty()) << tool;
    EXPECT_EQ(races[0]["objects"], json({"counter"})) << tool;
  }
}

// A program built with the wrappers records return addresses only where its threads are
// created, and no report shows those: `analyze` does not wait for the symbolizer then, while
// `dump`, which prints every site, asks it.
TEST(EndToEnd, AnalyzeAsksTheSymbolizerOnlyForSitesAReportShows) {
  auto t = trace_program("e2e_abba_staggered");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  ScratchDir d;
  const std::string tool = d / "symbolizer.sh", asked = d / "asked.txt";
  write_text(tool, "#!/bin/sh\ncat >> \"" + asked + "\"\n");
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  auto questions = [&] {
    std::ifstream in(asked);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  RunResult r = run_program({kCli, "analyze", t->trace(), "--format", "json"}, {"LOCKGRAPH_SYMBOLIZER=" + tool});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(findings_of(json::parse(r.out), "deadlock_potential").size(), 1u);
  EXPECT_EQ(questions(), "");
  RunResult dump = run_program({kCli, "dump", t->trace()}, {"LOCKGRAPH_SYMBOLIZER=" + tool});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(questions().find("CODE "), std::string::npos) << questions();
}

TEST(EndToEnd, LockedCounterIsCleanAndPassesTheGate) {
  auto t = trace_program("e2e_counter");
  ASSERT_EQ(t->program.exit_code, 0) << "the locked counter must reach 400";
  RunResult raw;
  json report = analyze_json(t->trace(), &raw);
  EXPECT_EQ(raw.exit_code, 0) << report.dump(2);
  EXPECT_TRUE(report["findings"].empty()) << report.dump(2);
  EXPECT_EQ(report["summary"]["passed"], true);
}

TEST(EndToEnd, RealDeadlockIsStoppedByTheWatchdogAndReported) {
  auto t = trace_program("e2e_hang");
  EXPECT_EQ(t->program.exit_code, 86) << t->program.err;
  EXPECT_NE(t->program.err.find("lockgraph: deadlock detected"), std::string::npos) << t->program.err;
  // The live lines name each awaited lock by the name the program gave it.
  EXPECT_NE(t->program.err.find("waits for lock B at "), std::string::npos) << t->program.err;
  EXPECT_NE(t->program.err.find("waits for lock A at "), std::string::npos) << t->program.err;
  json report = analyze_json(t->trace());
  auto d = findings_of(report, "deadlock_actual");
  ASSERT_EQ(d.size(), 1u) << report.dump(2);
  EXPECT_TRUE(has_location(d[0], "hang.cpp", 13));
  EXPECT_TRUE(has_location(d[0], "hang.cpp", 18));
  EXPECT_EQ(findings_of(report, "deadlock_potential").size(), 1u);
}

TEST(EndToEnd, TextReportDrawsTheCycleAndSaysWhatToDo) {
  auto t = trace_program("e2e_abba_staggered");
  RunResult r = run_program({kCli, "analyze", t->trace()}, {"NO_COLOR=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cycle:   A -> B -> A"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("abba_staggered.cpp:13"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILED: 1 finding fails the gate."), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos) << "no colour when piped";
}

TEST(EndToEnd, SarifHasRulesResultsRelatedLocationsAndFingerprints) {
  auto t = trace_program("e2e_abba_staggered");
  RunResult r = run_program({kCli, "analyze", t->trace(), "--format", "sarif"});
  json s = json::parse(r.out);
  EXPECT_EQ(s["version"], "2.1.0");
  auto& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "lockgraph");
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 9u);  // one per finding kind (finding.hpp kAllKinds)
  ASSERT_EQ(run["results"].size(), 1u);
  auto& res = run["results"][0];
  EXPECT_EQ(res["ruleId"], "deadlock_potential");
  EXPECT_EQ(run["tool"]["driver"]["rules"][res["ruleIndex"].get<int>()]["id"], "deadlock_potential");
  EXPECT_EQ(res["level"], "error");
  EXPECT_EQ(res["relatedLocations"].size(), 4u);
  EXPECT_GE(res["locations"][0]["physicalLocation"]["region"]["startLine"].get<int>(), 1);
  EXPECT_EQ(res["partialFingerprints"]["lockgraph/v1"].get<std::string>().size(), 16u);
}

TEST(EndToEnd, DotHighlightsTheCycle) {
  auto t = trace_program("e2e_abba_staggered");
  RunResult r = run_program({kCli, "analyze", t->trace(), "--format", "dot", "--fail-on", "none"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("\"A\" -> \"B\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"B\" -> \"A\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("color=red"), std::string::npos) << r.out;
}

TEST(EndToEnd, BaselineAcceptsKnownFindingsAndSuppressionsSilenceMatches) {
  auto t = trace_program("e2e_abba_staggered");
  ScratchDir d;
  RunResult w = run_program({kCli, "analyze", t->trace(), "--write-baseline", d / "base.json"});
  EXPECT_EQ(w.exit_code, 1);
  RunResult b = run_program({kCli, "analyze", t->trace(), "--baseline", d / "base.json"});
  EXPECT_EQ(b.exit_code, 0) << b.out;
  EXPECT_NE(b.out.find("accepted by the baseline"), std::string::npos);

  write_text(d / "supp.txt", "# known\ndeadlock:abba_staggered.cpp\nrace:nothing_matches_this\n");
  RunResult s = run_program({kCli, "analyze", t->trace(), "--suppress", d / "supp.txt"});
  EXPECT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.err.find("stale suppression race:nothing_matches_this"), std::string::npos) << s.err;

  write_text(d / "bad.txt", "deadlok:foo\n");
  RunResult bad = run_program({kCli, "analyze", t->trace(), "--suppress", d / "bad.txt"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "lockgraph: error: " + (d / "bad.txt") +
                         ":1: unknown suppression type 'deadlok' (deadlock, race, misuse, or a finding kind)\n");
}

TEST(EndToEnd, FailOnChoosesTheKinds) {
  auto t = trace_program("e2e_counter", {"race"});
  EXPECT_EQ(run_program({kCli, "analyze", t->trace(), "--fail-on", "deadlock_potential"}).exit_code, 0);
  EXPECT_EQ(run_program({kCli, "analyze", t->trace(), "--fail-on", "data_race"}).exit_code, 1);
  RunResult bad = run_program({kCli, "analyze", t->trace(), "--fail-on", "races"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown finding kind 'races'"), std::string::npos);
}

TEST(EndToEnd, InputErrorsAreOneLineAndExitTwo) {
  ScratchDir d;
  RunResult missing = run_program({kCli, "analyze", d / "nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "lockgraph: error: " + (d / "nope") + ": byte 0: no such file or directory\n");

  RunResult empty_dir = run_program({kCli, "analyze", d.path()});
  EXPECT_EQ(empty_dir.exit_code, 2);
  EXPECT_NE(empty_dir.err.find("no trace files"), std::string::npos);

  write_text(d / "garbage.trace", std::string(5000, '\x01'));
  RunResult garbage = run_program({kCli, "analyze", d / "garbage.trace"});
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_EQ(garbage.err, "lockgraph: error: " + (d / "garbage.trace") + ": byte 0: not a lockgraph trace (bad magic)\n");

  RunResult flag = run_program({kCli, "analyze", "--bogus"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_EQ(std::count(flag.err.begin(), flag.err.end(), '\n'), 1) << flag.err;

  RunResult fmt = run_program({kCli, "analyze", d.path(), "--format", "xml"});
  EXPECT_EQ(fmt.exit_code, 2);

  RunResult none = run_program({kCli});
  EXPECT_EQ(none.exit_code, 2);
}

TEST(EndToEnd, TruncatedTraceIsStillAnalyzedWithAWarning) {
  auto t = trace_program("e2e_abba_staggered");
  ScratchDir d;
  std::string file;
  for (const auto& e : std::filesystem::directory_iterator(t->trace())) file = e.path().string();
  std::string bytes = read_text(file);
  write_text(d / "cut.trace", bytes.substr(0, bytes.size() - 100));
  RunResult r = run_program({kCli, "analyze", d / "cut.trace", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lockgraph: warning: "), std::string::npos);
  json report = json::parse(r.out);
  EXPECT_EQ(findings_of(report, "deadlock_potential").size(), 1u);
}

TEST(EndToEnd, DumpRoundTripsThroughAnalyze) {
  auto t = trace_program("e2e_abba_staggered");
  ScratchDir d;
  RunResult dump = run_program({kCli, "dump", t->trace()});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  write_text(d / "trace.txt", dump.out);
  json report = analyze_json(d / "trace.txt");
  auto found = findings_of(report, "deadlock_potential");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["cycle"], json({"A", "B", "A"}));
  // Thread creation records a return address; llvm-symbolizer turns it into the caller's
  // statement (`lockgraph::thread t1([&] {...});` spans lines 10-16, t2 lines 17-21; compilers
  // attribute the call to different lines of it).
  auto created_at = [&](const std::string& thread) {
    std::string key = "thread_create obj=" + thread + " at=" LOCKGRAPH_SOURCE_DIR "/tests/e2e/programs/abba_staggered.cpp:";
    std::size_t p = dump.out.find(key);
    EXPECT_NE(p, std::string::npos) << dump.out;
    return p == std::string::npos ? 0 : std::stoi(dump.out.substr(p + key.size()));
  };
  int t1 = created_at("0x2"), t2 = created_at("0x3");
  EXPECT_TRUE(t1 >= 10 && t1 <= 16) << t1;
  EXPECT_TRUE(t2 >= 17 && t2 <= 21) << t2;
  RunResult stats = run_program({kCli, "dump", "--stats", t->trace()});
  EXPECT_NE(stats.out.find("lock_acquired"), std::string::npos);
}

// Two runs of a real program, each taking A and B in one order on one thread: neither trace has
// a cycle; their saved graphs merged do, with the sites of both runs.
TEST(EndToEnd, MergedGraphsOfTwoRunsFindTheCycleNeitherRunShows) {
  auto ab = trace_program("e2e_lock_pair", {"AB"});
  auto ba = trace_program("e2e_lock_pair", {"BA"});
  ASSERT_EQ(ab->program.exit_code, 0) << ab->program.err;
  ASSERT_EQ(ba->program.exit_code, 0) << ba->program.err;
  ScratchDir out;
  for (auto* t : {ab.get(), ba.get()}) {
    RunResult r;
    json report = analyze_json(t->trace(), &r, {"--save-graph", t->dir.path() + "/graph.json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(report["findings"].empty()) << report.dump(2);
  }
  RunResult merged = run_program({kCli, "merge", ab->dir.path() + "/graph.json", ba->dir.path() + "/graph.json",
                                  "--format", "json", "--save-graph", out / "all.json"});
  ASSERT_EQ(merged.exit_code, 1) << merged.err;
  json report = json::parse(merged.out);
  ASSERT_EQ(report["findings"].size(), 1u) << report.dump(2);
  const json& f = report["findings"][0];
  EXPECT_EQ(f["kind"], "deadlock_potential");
  EXPECT_EQ(f["cycle"], json({"A", "B", "A"}));
  EXPECT_TRUE(has_location(f, "lock_pair.cpp", 14)) << f.dump(2);  // AB: holds A
  EXPECT_TRUE(has_location(f, "lock_pair.cpp", 15)) << f.dump(2);  // AB: acquires B
  EXPECT_TRUE(has_location(f, "lock_pair.cpp", 17)) << f.dump(2);  // BA: holds B
  EXPECT_TRUE(has_location(f, "lock_pair.cpp", 18)) << f.dump(2);  // BA: acquires A
  // The merged graph merges further and alone reports the same cycle; one run alone has none.
  RunResult again = run_program({kCli, "merge", out / "all.json", ab->dir.path() + "/graph.json"});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.out.find("merged the lock-order graphs of 2 runs (2 edges)"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("cycle:   A -> B -> A"), std::string::npos) << again.out;
  RunResult alone = run_program({kCli, "merge", ab->dir.path() + "/graph.json"});
  EXPECT_EQ(alone.exit_code, 0) << alone.out;
  // A file that is not a saved graph: one line, exit 2.
  write_text(out / "bogus.json", "{\"findings\": []}");
  RunResult bad = run_program({kCli, "merge", out / "bogus.json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("not a saved lock-order graph"), std::string::npos) << bad.err;
}

// Runs argv with stdout and stderr on a pseudo-terminal; returns everything written to it.
std::string run_on_terminal(const std::vector<std::string>& argv, const std::string& env) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    putenv(const_cast<char*>(env.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));  // EIO once the child is gone
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  return out;
}

// A progress bar on a terminal (the one-second delay set to 0 for the test), nothing in a pipe.
TEST(EndToEnd, ProgressBarOnlyOnATerminal) {
  ScratchDir dir;
  std::string text = "1 thread_start\n1 lock_create obj=L\n";
  for (int i = 0; i < 100000; ++i) text += "1 lock_acquired obj=L\n1 lock_release obj=L\n";
  write_text(dir / "big.txt", text);
  std::string tty = run_on_terminal({kCli, "analyze", dir / "big.txt"}, "LOCKGRAPH_PROGRESS_AFTER_MS=0");
  EXPECT_NE(tty.find("\rlockgraph: analyzing ["), std::string::npos) << tty.substr(0, 300);
  EXPECT_NE(tty.find("% "), std::string::npos);
  EXPECT_NE(tty.find("of 0.2M events"), std::string::npos) << tty.substr(0, 300);
  EXPECT_NE(tty.find("\r\033[K"), std::string::npos) << "the bar is erased at the end";
  EXPECT_NE(tty.find("No findings."), std::string::npos);
  RunResult piped = run_program({kCli, "analyze", dir / "big.txt"}, {"LOCKGRAPH_PROGRESS_AFTER_MS=0"});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
}

TEST(EndToEnd, VersionNamesTheTraceFormatThisBuildWrites) {
  auto t = trace_program("e2e_counter");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(t->trace())) file = entry.path();
  ASSERT_FALSE(file.empty());
  const std::string bytes = read_text(file);
  ASSERT_GE(bytes.size(), 12u);
  std::uint32_t written = 0;  // the header's version: after the 8-byte magic
  std::memcpy(&written, bytes.data() + 8, sizeof written);
  RunResult v = run_program({kCli, "--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "lockgraph " LOCKGRAPH_VERSION " (trace format v" + std::to_string(written) + ")\n");
}

// The CLI sets its own allocator up (cli/allocator_tuning.hpp; earlier versions did it through
// GLIBC_TUNABLES and a second start); the programs it runs must see the user's environment: no
// tunables when the user set none, theirs when set.
TEST(EndToEnd, RunLeavesTheProgramsAllocatorSettingsToTheUser) {
  RunResult clean = run_program({"/usr/bin/env", "-u", "GLIBC_TUNABLES", kCli, "run", "--", "/usr/bin/env"});
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_NE(clean.out.find("LOCKGRAPH_TRACE_DIR="), std::string::npos) << clean.out;  // it is the program's env
  EXPECT_EQ(clean.out.find("GLIBC_TUNABLES"), std::string::npos) << clean.out;
  EXPECT_EQ(clean.out.find("LOCKGRAPH_ALLOCATOR_TUNED"), std::string::npos) << clean.out;
  RunResult own = run_program({kCli, "run", "--", "/usr/bin/env"}, {"GLIBC_TUNABLES=glibc.malloc.check=0"});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_NE(("\n" + own.out).find("\nGLIBC_TUNABLES=glibc.malloc.check=0\n"), std::string::npos) << own.out;
  EXPECT_EQ(own.out.find("LOCKGRAPH_ALLOCATOR_TUNED"), std::string::npos) << own.out;
}

// The commands that read traces ask for transparent huge pages for the CLI's own heap (one page
// fault per 2 MiB instead of per 4 KiB: cli/allocator_tuning.hpp); LOCKGRAPH_DEFAULT_MALLOC=1
// leaves glibc's defaults. The program `lockgraph run` starts is the CLI's child, so it can read
// the CLI's memory map: the heap's flags say whether madvise(MADV_HUGEPAGE) was applied ("hg").
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define LOCKGRAPH_TEST_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LOCKGRAPH_TEST_SANITIZED_ALLOCATOR 1
#endif
TEST(EndToEnd, TraceCommandsAskForHugePagesForTheirHeap) {
#ifdef LOCKGRAPH_TEST_SANITIZED_ALLOCATOR
  GTEST_SKIP() << "the CLI of a sanitizer build allocates with the sanitizer's allocator: no glibc heap to tune";
#endif
  if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0) GTEST_SKIP() << "kernel without THP";
  auto heap_flags = [](const std::string& smaps) {
    std::string flags, line;
    std::istringstream in(smaps);
    bool heap = false;
    while (std::getline(in, line)) {
      if (line.find("[heap]") != std::string::npos) heap = true;
      if (heap && line.rfind("VmFlags:", 0) == 0) flags += line + "\n", heap = false;
    }
    return flags;
  };
  const std::vector<std::string> show = {"run", "--", "/bin/sh", "-c", "cat /proc/$PPID/smaps"};
  std::vector<std::string> tuned = {kCli};
  tuned.insert(tuned.end(), show.begin(), show.end());
  RunResult r = run_program(tuned, {"LOCKGRAPH_DEFAULT_MALLOC=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string flags = heap_flags(r.out);
  ASSERT_FALSE(flags.empty()) << r.out.substr(0, 2000);
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
  RunResult plain = run_program(tuned, {"LOCKGRAPH_DEFAULT_MALLOC=1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const std::string plain_flags = heap_flags(plain.out);
  ASSERT_FALSE(plain_flags.empty()) << plain.out.substr(0, 2000);
  EXPECT_EQ(plain_flags.find(" hg"), std::string::npos) << plain_flags;
}

// Benchmark diagnostics (analyzer/src/pipeline_diagnostics.hpp): pinning the pipeline's threads
// changes nothing in the report, the statistics line says where the time went, a malformed value
// is warned about and ignored.
TEST(EndToEnd, PipelineDiagnosticsPinAndTimeButNeverChangeTheReport) {
  auto t = trace_program("e2e_abba_staggered");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  const std::vector<std::string> argv{kCli, "analyze", t->trace(), "--format", "json"};
  RunResult plain = run_program(argv);
  ASSERT_EQ(plain.exit_code, 1) << plain.err;  // the AB/BA cycle
  RunResult pinned = run_program(argv, {"LOCKGRAPH_PIPELINE_CPUS=0,0", "LOCKGRAPH_PIPELINE_STATS=1"});
  EXPECT_EQ(pinned.exit_code, plain.exit_code);
  EXPECT_EQ(pinned.out, plain.out);
  const std::regex stats(
      "lockgraph: pipeline: [0-9.]+ ms, producer waited [0-9.]+ ms for room, consumer [0-9.]+ ms for events\n");
  EXPECT_TRUE(std::regex_search(pinned.err, stats)) << pinned.err;
  EXPECT_FALSE(std::regex_search(plain.err, stats)) << plain.err;
  RunResult bad = run_program(argv, {"LOCKGRAPH_PIPELINE_CPUS=first"});
  EXPECT_EQ(bad.exit_code, plain.exit_code);
  EXPECT_EQ(bad.out, plain.out);
  EXPECT_NE(bad.err.find("LOCKGRAPH_PIPELINE_CPUS=first is not CONSUMER,PRODUCER"), std::string::npos) << bad.err;
}

TEST(EndToEnd, HelpAnswersQuestions) {
  RunResult h = run_program({kCli, "--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* word : {"analyze", "stats", "dump", "Exit codes"}) EXPECT_NE(h.out.find(word), std::string::npos) << word;
  RunResult a = run_program({kCli, "analyze", "--help"});
  for (const char* word : {"--format", "--fail-on", "--suppress", "--baseline", "--write-baseline", "deadlock_potential"}) {
    EXPECT_NE(a.out.find(word), std::string::npos) << word;
  }
}

}  // namespace
}  // namespace lockgraph::testing

namespace lockgraph::testing {
namespace {

// RAPID STD input through the real CLI: the predictive default, the gate, the errors.
TEST(StdInput, WcpByDefaultFindsTheRaceHappensBeforeMisses) {
  ScratchDir dir;
  write_text(dir / "hidden.std",
             "T1|w(x)|10\nT1|acq(L)|11\nT1|rel(L)|12\nT2|acq(L)|20\nT2|rel(L)|21\nT2|w(x)|22\n");
  RunResult r = run_program({kCli, "analyze", "--input-format", "std", dir / "hidden.std", "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  json report = json::parse(r.out);
  ASSERT_EQ(report["findings"].size(), 1u);
  const json& f = report["findings"][0];
  EXPECT_EQ(f["kind"], "data_race");
  EXPECT_EQ(f["objects"], json{"x"});
  EXPECT_EQ(f["locations"][0]["line"], 10);
  EXPECT_EQ(f["locations"][1]["line"], 22);
  EXPECT_EQ(f["locations"][0]["file"], dir / "hidden.std");
  RunResult hb = run_program({kCli, "analyze", "--input-format", "std", "--races", "hb", dir / "hidden.std"});
  EXPECT_EQ(hb.exit_code, 0) << hb.out;

  write_text(dir / "empty.std", "");
  RunResult e = run_program({kCli, "analyze", "--input-format", "std", dir / "empty.std"});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.err, "lockgraph: error: " + dir / "empty.std" + ": byte 0: empty STD trace\n");
  write_text(dir / "cut.std", "T1|w(x)|1\nT2|w(x)|2\nT2|w(x\n");
  RunResult c = run_program({kCli, "analyze", "--input-format", "std", "--races", "hb", dir / "cut.std", "--format", "json"});
  EXPECT_EQ(c.exit_code, 1);  // the two events before the damage still race
  EXPECT_NE(c.err.find(dir / "cut.std" + ":3: malformed operation 'w(x'"), std::string::npos) << c.err;
  RunResult bad = run_program({kCli, "analyze", "--input-format", "std", "--races", "tsan", dir / "hidden.std"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--races tsan is not one of hb, shb, wcp, syncp, lockset"), std::string::npos) << bad.err;
}

// tests/e2e/programs/hidden_race.cpp: two writes of `config` ordered only by two critical
// sections on stats_lock that touch different variables.
TEST(Prediction, WcpOnALockgraphTraceFindsTheRaceHiddenBehindALock) {
  auto t = trace_program("e2e_hidden_race");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  json plain = analyze_json(t->trace());
  EXPECT_EQ(findings_of(plain, "data_race").size(), 0u);  // happens-before: ordered by the lock
  json shb = analyze_json(t->trace(), nullptr, {"--races", "shb"});
  EXPECT_EQ(findings_of(shb, "data_race").size(), 0u);
  RunResult raw;
  json wcp = analyze_json(t->trace(), &raw, {"--races", "wcp"});
  EXPECT_EQ(raw.exit_code, 1);
  auto races = findings_of(wcp, "data_race");
  ASSERT_EQ(races.size(), 1u) << raw.out;
  EXPECT_EQ(races[0]["objects"], json{"config"});
  EXPECT_EQ(races[0]["locations"][0]["line"], 18);
  EXPECT_EQ(races[0]["locations"][1]["line"], 31);
  EXPECT_EQ(races[0]["locations"][0]["file"], std::string(LOCKGRAPH_SOURCE_DIR) + "/tests/e2e/programs/hidden_race.cpp");
  EXPECT_EQ(findings_of(wcp, "unprotected_write").size(), 1u);  // the other detectors still ran
}

TEST(Prediction, ConvertToStdAndAnalyzeTheSameRaces) {
  auto t = trace_program("e2e_hidden_race");
  RunResult c = run_program({kCli, "convert", "--to", "std", t->trace(), "-o", t->dir / "run.std"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.err, "");  // nothing STD cannot say was dropped: locks, threads and accesses only
  const std::string src = std::string(LOCKGRAPH_SOURCE_DIR) + "/tests/e2e/programs/hidden_race.cpp:";
  // The thread-creation line of a multi-line statement differs between g++ (its last line) and
  // clang++ (its first): the fork lines are checked without it.
  std::string text = read_text(t->dir / "run.std");
  for (const char* fork : {"T1|fork(T2)|", "T1|fork(T3)|"}) {
    auto at = text.find(std::string(fork) + src);
    ASSERT_NE(at, std::string::npos) << text;
    text.erase(at + std::strlen(fork), text.find('\n', at) - at - std::strlen(fork));
  }
  EXPECT_EQ(text,
            "T1|fork(T2)|\n"
            "T1|fork(T3)|\n"
            "T2|w(config)|" + src + "18\n"
            "T2|acq(stats_lock)|" + src + "20\n"
            "T2|r(reads_seen)|" + src + "21\n"
            "T2|w(reads_seen)|" + src + "21\n"
            "T2|rel(stats_lock)|" + src + "20\n"
            "T3|acq(stats_lock)|" + src + "28\n"
            "T3|r(writes_seen)|" + src + "29\n"
            "T3|w(writes_seen)|" + src + "29\n"
            "T3|rel(stats_lock)|" + src + "28\n"
            "T3|w(config)|" + src + "31\n"
            "T1|join(T2)|" + src + "33\n"
            "T1|join(T3)|" + src + "34\n");
  RunResult hb = run_program({kCli, "analyze", "--input-format", "std", "--races", "hb", t->dir / "run.std"});
  EXPECT_EQ(hb.exit_code, 0) << hb.out;
  RunResult wcp = run_program({kCli, "analyze", "--input-format", "std", t->dir / "run.std", "--format", "json"});
  ASSERT_EQ(wcp.exit_code, 1) << wcp.err;
  json report = json::parse(wcp.out);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["locations"][0]["file"], src.substr(0, src.size() - 1));
  EXPECT_EQ(report["findings"][0]["locations"][0]["line"], 18);
  EXPECT_EQ(report["findings"][0]["locations"][1]["line"], 31);
}

TEST(StdInput, GeneratedTracesAreDeterministicAndAnalyzable) {
  ScratchDir dir;
  std::vector<std::string> gen{kCli, "generate", "--events", "50000", "--threads", "4", "--racy", "0", "-o"};
  auto a = gen, b = gen;
  a.push_back(dir / "a.std");
  b.push_back(dir / "b.std");
  ASSERT_EQ(run_program(a).exit_code, 0);
  ASSERT_EQ(run_program(b).exit_code, 0);
  EXPECT_EQ(read_text(dir / "a.std"), read_text(dir / "b.std"));
  EXPECT_EQ(read_text(dir / "a.std").rfind("T0|fork(T1)|", 0), 0u);
  RunResult r = run_program({kCli, "analyze", "--input-format", "std", dir / "a.std"});
  EXPECT_EQ(r.exit_code, 0) << r.out;  // no racy share: every analysis is clean
  EXPECT_NE(r.out.find("with wcp race prediction"), std::string::npos) << r.out;
}

TEST(StdInput, SyncpDoesNotReportTheRaceThatNeedsAReadToChangeItsWrite) {
  ScratchDir dir;
  write_text(dir / "rf.std", "T1|w(x)|1\nT1|w(y)|2\nT2|r(y)|3\nT2|w(x)|4\n");
  for (const char* races : {"wcp", "syncp"}) {
    RunResult r = run_program({kCli, "analyze", "--input-format", "std", dir / "rf.std", "--races", races, "--format", "json"});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    std::set<std::string> vars;
    const json report = json::parse(r.out);
    for (const json& f : report["findings"]) vars.insert(f["objects"][0].get<std::string>());
    if (std::string(races) == "wcp") {
      EXPECT_EQ(vars, (std::set<std::string>{"x", "y"}));
    } else {
      EXPECT_EQ(vars, (std::set<std::string>{"y"}));
    }
  }
}

TEST(StdInput, DeadlockPredictedWithAWitnessThatExplainPrints) {
  ScratchDir dir;
  write_text(dir / "abba.std",
             "T1|acq(A)|1\nT1|acq(B)|2\nT1|rel(B)|3\nT1|rel(A)|4\n"
             "T2|acq(B)|5\nT2|acq(A)|6\nT2|rel(A)|7\nT2|rel(B)|8\n");
  RunResult r = run_program({kCli, "analyze", "--input-format", "std", dir / "abba.std", "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  json report = json::parse(r.out);
  auto d = findings_of(report, "deadlock_predicted");
  ASSERT_EQ(d.size(), 1u) << r.out;
  const json& steps = d[0]["witness"]["steps"];
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0]["operation"], "acq(A)");
  EXPECT_EQ(steps[0]["thread"], "T1");
  EXPECT_EQ(steps[1]["operation"], "acq(B)");
  EXPECT_EQ(steps[1]["thread"], "T2");
  EXPECT_EQ(steps[2]["blocked"], true);
  EXPECT_EQ(steps[3]["line"], 6);
  const std::string id = d[0]["fingerprint"].get<std::string>().substr(0, 6);
  RunResult e = run_program({kCli, "explain", id, "--input-format", "std", dir / "abba.std"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("acq(B)  abba.std:2  BLOCKS"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("T1 holds A and waits for B"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("T2 holds B and waits for A"), std::string::npos) << e.out;
  RunResult bad = run_program({kCli, "explain", "ffffffff", "--input-format", "std", dir / "abba.std"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("no predicted deadlock ffffffff (there are 1: " + id), std::string::npos) << bad.err;
}

// Files past 4 MiB are read on a second thread; with wcp and syncp (slower than the reader) the
// deadlock prediction's pass runs there too, with hb on the analysis's thread. Either way the
// same predicted deadlock, found in the middle of a large file, with the same fingerprint.
TEST(StdInput, DeadlockPredictedTheSameWhicheverThreadPredictsIt) {
  ScratchDir dir;
  std::string text;
  auto filler = [&text](int lines) {
    for (int i = 0; i < lines; ++i) text += "T3|w(V" + std::to_string(i % 4096) + ")|9\n";
  };
  filler(200000);
  text += "T1|acq(A)|1\nT1|acq(B)|2\nT1|rel(B)|3\nT1|rel(A)|4\n"
          "T2|acq(B)|5\nT2|acq(A)|6\nT2|rel(A)|7\nT2|rel(B)|8\n";
  filler(200000);
  ASSERT_GT(text.size(), std::size_t(4) << 20);
  write_text(dir / "big.std", text);
  std::set<std::string> fingerprints;
  for (const char* races : {"hb", "wcp", "syncp"}) {
    RunResult r = run_program({kCli, "analyze", "--input-format", "std", dir / "big.std", "--races", races, "--format", "json"});
    ASSERT_EQ(r.exit_code, 1) << races << ": " << r.err;
    json report = json::parse(r.out);
    auto d = findings_of(report, "deadlock_predicted");
    ASSERT_EQ(d.size(), 1u) << races << ": " << r.out.substr(0, 2000);
    EXPECT_EQ(report["findings"].size(), 1u) << races;
    fingerprints.insert(d[0]["fingerprint"].get<std::string>());
  }
  EXPECT_EQ(fingerprints.size(), 1u);
}

TEST(Prediction, PredictDeadlocksConfirmsTheStaggeredAbbaAndExplainsIt) {
  auto t = trace_program("e2e_abba_staggered");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  EXPECT_EQ(findings_of(analyze_json(t->trace()), "deadlock_predicted").size(), 0u);  // off by default
  RunResult raw;
  json report = analyze_json(t->trace(), &raw, {"--predict-deadlocks"});
  EXPECT_EQ(raw.exit_code, 1);
  EXPECT_EQ(findings_of(report, "deadlock_potential").size(), 0u) << raw.out;
  auto d = findings_of(report, "deadlock_predicted");
  ASSERT_EQ(d.size(), 1u) << raw.out;
  for (int line : {12, 13, 19, 20}) EXPECT_TRUE(has_location(d[0], "abba_staggered.cpp", line)) << line;
  const json& steps = d[0]["witness"]["steps"];
  ASSERT_GE(steps.size(), 4u);
  EXPECT_EQ(steps[steps.size() - 2]["line"], 13);
  EXPECT_EQ(steps[steps.size() - 1]["line"], 20);
  // The blocked threads are named as in the rest of the report.
  std::set<std::string> blocked, named(d[0]["threads"].begin(), d[0]["threads"].end());
  for (const json& s : steps) {
    if (s.value("blocked", false)) blocked.insert(s["thread"].get<std::string>());
  }
  EXPECT_EQ(blocked, named);
  RunResult e = run_program({kCli, "explain", "1", t->trace()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("acq(A)  abba_staggered.cpp:20  BLOCKS"), std::string::npos) << e.out;
}

TEST(Prediction, SyncpOnALockgraphTraceFindsTheRaceHiddenBehindALock) {
  auto t = trace_program("e2e_hidden_race");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  RunResult raw;
  json report = analyze_json(t->trace(), &raw, {"--races", "syncp"});
  EXPECT_EQ(raw.exit_code, 1);
  auto races = findings_of(report, "data_race");
  ASSERT_EQ(races.size(), 1u) << raw.out;
  EXPECT_EQ(races[0]["objects"], json{"config"});
  EXPECT_TRUE(has_location(races[0], "hidden_race.cpp", 18));
  EXPECT_TRUE(has_location(races[0], "hidden_race.cpp", 31));
}

TEST(Prediction, RoundTripLockgraphToStdToLockgraphKeepsLocksAccessesAndRaces) {
  auto t = trace_program("e2e_hidden_race");
  ASSERT_EQ(t->program.exit_code, 0) << t->program.err;
  const std::string a = t->dir / "a.std", text = t->dir / "b.trace.txt", c = t->dir / "c.std";
  ASSERT_EQ(run_program({kCli, "convert", "--to", "std", t->trace(), "-o", a}).exit_code, 0);
  RunResult back = run_program({kCli, "convert", "--to", "lockgraph", a, "-o", text});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(back.err, "");
  RunResult again = run_program({kCli, "convert", "--to", "std", text, "-o", c});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_text(c), read_text(a));  // threads, locks, variables, accesses and sites survive
  // The converted trace is a lockgraph trace like any other: the same predicted race.
  RunResult raw;
  json report = analyze_json(text, &raw, {"--races", "wcp"});
  auto races = findings_of(report, "data_race");
  ASSERT_EQ(races.size(), 1u) << raw.out << raw.err;
  EXPECT_EQ(races[0]["objects"], json{"config"});
  EXPECT_TRUE(has_location(races[0], "hidden_race.cpp", 18));
  EXPECT_TRUE(has_location(races[0], "hidden_race.cpp", 31));
  RunResult two = run_program({kCli, "convert", "--to", "lockgraph", a, c});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_NE(two.err.find("--to lockgraph reads exactly one STD file (got 2)"), std::string::npos) << two.err;
}

}  // namespace
}  // namespace lockgraph::testing
