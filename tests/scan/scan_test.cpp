// `lockgraph scan` on small source trees with known lock graphs (tests/scan/trees/*), on this
// project's own deadlock demo, and the static half joined with a real run: analyze --static,
// hierarchy, analyze --hierarchy. Every test runs the real CLI (Clang underneath) on real files.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kCli = LOCKGRAPH_CLI;
const std::string kTrees = std::string(LOCKGRAPH_SOURCE_DIR) + "/tests/scan/trees";

// A compile_commands.json for `files` (absolute) in `dir`.
void write_database(const ScratchDir& dir, const std::vector<std::string>& files) {
  json db = json::array();
  for (const std::string& f : files) {
    db.push_back({{"directory", dir.path()}, {"command", "c++ -std=c++17 -c " + f}, {"file", f}});
  }
  write_text(dir / "compile_commands.json", db.dump(1));
}

std::vector<std::string> tree_files(const std::string& tree) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kTrees + "/" + tree)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

struct Scan {
  ScratchDir dir;
  RunResult run;
  json report;
  json graph;  // the --save file
};

std::unique_ptr<Scan> scan_tree(const std::string& tree, std::vector<std::string> extra = {}) {
  auto s = std::make_unique<Scan>();
  write_database(s->dir, tree_files(tree));
  std::vector<std::string> argv{kCli, "scan", "-p", s->dir.path(), "--format", "json", "--save", s->dir / "scan.json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  s->run = run_program(argv);
  EXPECT_NE(s->run.exit_code, 2) << s->run.err;
  if (s->run.exit_code != 2) {
    s->report = json::parse(s->run.out);
    s->graph = json::parse(read_text(s->dir / "scan.json"));
  }
  return s;
}

using EdgeSites = std::tuple<std::string, std::string, unsigned, unsigned>;  // from, to, held line, acquired line

std::set<EdgeSites> edges_of(const json& graph) {
  std::set<EdgeSites> out;
  for (const json& e : graph["edges"]) {
    out.emplace(e["from"], e["to"], e["held_at"]["line"].get<unsigned>(), e["acquired_at"]["line"].get<unsigned>());
  }
  return out;
}

std::vector<std::string> cycle_of(const json& finding) { return finding["cycle"].get<std::vector<std::string>>(); }

// (line, function) of every location of a finding, in order.
std::vector<std::pair<unsigned, std::string>> sites_of(const json& finding) {
  std::vector<std::pair<unsigned, std::string>> out;
  for (const json& l : finding["locations"]) out.emplace_back(l["line"].get<unsigned>(), l.value("function", ""));
  return out;
}

using Sites = std::vector<std::pair<unsigned, std::string>>;

// The report holds exactly one deadlock_static finding, with this cycle and these sites; returned.
json single_static_cycle(const RunResult& r, const std::vector<std::string>& cycle, const Sites& sites) {
  json report = json::parse(r.out);
  EXPECT_EQ(report["findings"].size(), 1u) << r.out;
  if (report["findings"].empty()) return json::object();
  json f = report["findings"][0];
  EXPECT_EQ(f["kind"], "deadlock_static");
  EXPECT_EQ(cycle_of(f), cycle);
  EXPECT_EQ(sites_of(f), sites);
  return f;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(Scan, NestedGuardsInBothOrdersAreACycle) {
  auto s = scan_tree("nested");
  EXPECT_EQ(s->run.exit_code, 1);
  ASSERT_EQ(s->report["findings"].size(), 1u) << s->run.out;
  const json& f = s->report["findings"][0];
  EXPECT_EQ(f["kind"], "deadlock_static");
  EXPECT_EQ(cycle_of(f), (std::vector<std::string>{"a", "b", "a"}));
  EXPECT_EQ(sites_of(f), (Sites{{9, "transfer_ab"}, {10, "transfer_ab"}, {15, "transfer_ba"}, {16, "transfer_ba"}}));
  for (const json& l : f["locations"]) EXPECT_TRUE(ends_with(l["file"], "/trees/nested/bank.cpp")) << l;
  EXPECT_EQ(edges_of(s->graph), (std::set<EdgeSites>{{"a", "b", 9, 10}, {"b", "a", 15, 16}}));

  // The same finding in SARIF (rule per kind, every site a related location) and as the gate sees it.
  RunResult sarif = run_program({kCli, "scan", "-p", s->dir.path(), "--format", "sarif"});
  EXPECT_EQ(sarif.exit_code, 1);
  json run = json::parse(sarif.out)["runs"][0];
  ASSERT_EQ(run["results"].size(), 1u);
  EXPECT_EQ(run["results"][0]["ruleId"], "deadlock_static");
  EXPECT_EQ(run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 9);
  EXPECT_EQ(run["results"][0]["relatedLocations"].size(), 4u);
  RunResult gated = run_program({kCli, "scan", "-p", s->dir.path(), "--fail-on", "deadlock_potential"});
  EXPECT_EQ(gated.exit_code, 0) << gated.out;
}

TEST(Scan, UniqueLockUnlockedEarlyDeferredTriedOrBranchedAway) {
  auto s = scan_tree("unique_lock");
  EXPECT_EQ(s->run.exit_code, 0) << s->run.out;
  EXPECT_EQ(s->report["findings"].size(), 0u);
  // Only b -> a: after unlock(), on try_to_lock and past a branch that released a, a is not held.
  EXPECT_EQ(edges_of(s->graph), (std::set<EdgeSites>{{"b", "a", 16, 17}, {"b", "a", 22, 23}}));
}

TEST(Scan, ScopedLockAndStdLockOrderNothingAmongTheirLocks) {
  auto s = scan_tree("scoped");
  EXPECT_EQ(s->run.exit_code, 0) << s->run.out;
  EXPECT_EQ(s->report["findings"].size(), 0u);
  // Adopted by guards after std::lock, a and b are still held when c is taken.
  EXPECT_EQ(edges_of(s->graph), (std::set<EdgeSites>{{"a", "c", 14, 17}, {"b", "c", 14, 17}}));
}

TEST(Scan, LockTakenInACalleeInAnotherFileClosesTheCycle) {
  auto s = scan_tree("callees");
  EXPECT_EQ(s->run.exit_code, 1);
  ASSERT_EQ(s->report["findings"].size(), 1u) << s->run.out;
  const json& f = s->report["findings"][0];
  EXPECT_EQ(cycle_of(f), (std::vector<std::string>{"log_m", "registry_m", "log_m"}));
  // registry_m -> log_m: held in register_user (users.cpp:10), taken in write_log (log.cpp:7).
  const json& acquired = f["locations"][3];
  EXPECT_TRUE(ends_with(acquired["file"], "/callees/log.cpp"));
  EXPECT_EQ(acquired["line"], 7);
  EXPECT_EQ(acquired["function"], "write_log");
  ASSERT_EQ(acquired["stack"].size(), 1u);
  EXPECT_TRUE(ends_with(acquired["stack"][0], "/callees/users.cpp:11)")) << acquired["stack"][0];
  EXPECT_EQ(acquired["stack"][0].get<std::string>().rfind("register_user (", 0), 0u);
  EXPECT_EQ(f["locations"][2]["line"], 10);
}

TEST(Scan, MembersAreClassesGlobalsQualifiedParametersPerFunction) {
  auto s = scan_tree("kinds");
  EXPECT_EQ(s->run.exit_code, 1);
  ASSERT_EQ(s->report["findings"].size(), 1u) << s->run.out;
  // from.m then to.m: one class taken nested through two objects (the transfer deadlock).
  EXPECT_EQ(cycle_of(s->report["findings"][0]), (std::vector<std::string>{"Account::m", "Account::m"}));
  EXPECT_EQ(edges_of(s->graph), (std::set<EdgeSites>{{"Account::m", "Account::m", 18, 19},
                                                     {"Account::m", "bank::audit_m", 25, 26},
                                                     {"bank::audit_m", "with_lock:p", 30, 31}}));
  std::set<std::string> locks;
  for (const auto& [name, l] : s->graph["locks"].items()) locks.insert(name);
  EXPECT_EQ(locks, (std::set<std::string>{"Account::m", "bank::audit_m", "with_lock:p"}));
  EXPECT_EQ(s->graph["locks"]["Account::m"]["declared_at"]["line"], 9);
  EXPECT_EQ(s->graph["locks"]["bank::audit_m"]["declared_at"]["line"], 5);
  EXPECT_EQ(s->graph["locks"]["Account::m"]["type"], "std::mutex");
  // deposit() locks `m` of `this`: the same class node, at its own site.
  std::set<unsigned> sites;
  for (const json& l : s->graph["locks"]["Account::m"]["acquired_at"]) sites.insert(l["line"].get<unsigned>());
  EXPECT_EQ(sites, (std::set<unsigned>{12, 18, 19, 25}));
}

TEST(Scan, CycleVisibleOnlyThroughTwoCallLevels) {
  auto s = scan_tree("two_levels");
  EXPECT_EQ(s->run.exit_code, 1);
  ASSERT_EQ(s->report["findings"].size(), 1u) << s->run.out;
  const json& f = s->report["findings"][0];
  EXPECT_EQ(cycle_of(f), (std::vector<std::string>{"cache_m", "db_m", "cache_m"}));
  const json& acquired = f["locations"][1];  // cache_m -> db_m: db_write takes db_m
  EXPECT_EQ(acquired["function"], "db_write");
  EXPECT_EQ(acquired["line"], 9);
  ASSERT_EQ(acquired["stack"].size(), 2u);
  EXPECT_EQ(acquired["stack"][0].get<std::string>().rfind("flush (", 0), 0u);
  EXPECT_TRUE(ends_with(acquired["stack"][0], "cache.cpp:13)"));
  EXPECT_EQ(acquired["stack"][1].get<std::string>().rfind("update_cache (", 0), 0u);
  EXPECT_TRUE(ends_with(acquired["stack"][1], "cache.cpp:18)"));

  auto two = scan_tree("two_levels", {"--call-depth", "2"});
  EXPECT_EQ(two->run.exit_code, 1);
  EXPECT_EQ(two->report["findings"].size(), 1u);
  auto one = scan_tree("two_levels", {"--call-depth", "1"});  // flush only: db_write is out of reach
  EXPECT_EQ(one->run.exit_code, 0);
  EXPECT_EQ(one->report["findings"].size(), 0u);
  EXPECT_EQ(edges_of(one->graph), (std::set<EdgeSites>{{"db_m", "cache_m", 22, 23}}));
}

TEST(Scan, OneOrderEverywhereHasNoCycleAndGivesTheHierarchy) {
  auto s = scan_tree("clean");
  EXPECT_EQ(s->run.exit_code, 0) << s->run.out;
  EXPECT_EQ(s->report["findings"].size(), 0u);
  // Guards, direct lock(), pthread calls and a lambda called while a is held; c released before a.
  EXPECT_EQ(edges_of(s->graph), (std::set<EdgeSites>{{"a", "b", 13, 14},
                                                     {"b", "c", 18, 19},
                                                     {"a", "b", 25, 27},
                                                     {"a", "c", 25, 28},
                                                     {"b", "c", 27, 28},
                                                     {"c", "d", 43, 44}}));
  std::set<EdgeSites> shared;  // std::shared_lock in ab(), pthread_rwlock_rdlock in cd()
  for (const json& e : s->graph["edges"]) {
    if (e["acquired_shared"] == true) shared.emplace(e["from"], e["to"], e["held_at"]["line"], e["acquired_at"]["line"]);
  }
  EXPECT_EQ(shared, (std::set<EdgeSites>{{"a", "b", 13, 14}, {"c", "d", 43, 44}}));
  RunResult h = run_program({kCli, "hierarchy", s->dir / "scan.json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  std::string rules;
  for (std::size_t at = 0; at < h.out.size();) {
    std::size_t end = h.out.find('\n', at);
    std::string line = h.out.substr(at, end - at);
    if (!line.empty() && line[0] != '#') rules += line + "\n";
    at = end + 1;
  }
  EXPECT_EQ(rules, "a -> b\nb -> c\nc -> d\n");  // a -> c is implied
  RunResult tsa = run_program({kCli, "hierarchy", "--format", "tsa", s->dir / "scan.json"});
  ASSERT_EQ(tsa.exit_code, 0) << tsa.err;
  EXPECT_NE(tsa.out.find("/trees/clean/clean.cpp:8: a: add ACQUIRED_BEFORE(b)\n"), std::string::npos) << tsa.out;
  EXPECT_NE(tsa.out.find("/trees/clean/clean.cpp:9: b: add ACQUIRED_BEFORE(c) ACQUIRED_AFTER(a)\n"), std::string::npos);
  EXPECT_NE(tsa.out.find("/trees/clean/clean.cpp:10: c: add ACQUIRED_BEFORE(d) ACQUIRED_AFTER(b)\n"), std::string::npos);
  EXPECT_NE(tsa.out.find("/trees/clean/clean.cpp:40: d: add ACQUIRED_AFTER(c)\n"), std::string::npos) << tsa.out;
}

TEST(Scan, FindsTheDeadlockDemosInversion) {
  const std::string demo = std::string(LOCKGRAPH_SOURCE_DIR) + "/demos/deadlock.cpp";
  RunResult r = run_program({kCli, "scan", "-p", LOCKGRAPH_BUILD_DIR, demo, "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const unsigned one_a = unsigned(source_line(demo, "A.lock();", "void func_one("));
  const unsigned one_b = unsigned(source_line(demo, "B.lock();", "void func_one("));
  const unsigned two_b = unsigned(source_line(demo, "B.lock();", "void func_two("));
  const unsigned two_a = unsigned(source_line(demo, "A.lock();", "void func_two("));
  ASSERT_TRUE(one_a < one_b && one_b < two_b && two_b < two_a) << one_a << " " << one_b << " " << two_b << " " << two_a;
  single_static_cycle(r, {"A", "B", "A"}, {{one_a, "func_one"}, {one_b, "func_one"}, {two_b, "func_two"}, {two_a, "func_two"}});
}

TEST(Scan, BadInputIsOneLineAndExitTwo) {
  ScratchDir empty;
  RunResult r = run_program({kCli, "scan", "-p", empty.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lockgraph: error: no compile_commands.json in " + empty.path()), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);

  ScratchDir dir;
  write_database(dir, tree_files("nested"));
  r = run_program({kCli, "scan", "-p", dir.path(), kTrees + "/kinds/kinds.cpp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("kinds.cpp: not in " + dir.path() + "/compile_commands.json"), std::string::npos) << r.err;
  r = run_program({kCli, "scan", "-p", dir.path(), dir / "missing.cpp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.cpp: no such file"), std::string::npos) << r.err;
  r = run_program({kCli, "scan", "-p", dir.path(), "--call-depth", "-1"});
  EXPECT_EQ(r.exit_code, 2);
}

// The scanner is a plugin the CLI loads only for `scan` (no other command loads Clang and LLVM):
// a missing or foreign plugin is one line and exit 2, and other commands do not need it.
TEST(Scan, MissingOrWrongScannerPluginIsOneLineAndExitTwo) {
  ScratchDir dir;
  write_database(dir, tree_files("nested"));
  RunResult r = run_program({kCli, "scan", "-p", dir.path()}, {"LOCKGRAPH_SCAN_PLUGIN=" + (dir / "none.so")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lockgraph: error: the static scanner liblockgraph_scan.so was not found"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // A file that is not a shared library.
  r = run_program({kCli, "scan", "-p", dir.path()}, {"LOCKGRAPH_SCAN_PLUGIN=" + (dir / "compile_commands.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lockgraph: error: cannot load the static scanner " + (dir / "compile_commands.json")),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_program({kCli, "config", "--cxxflags"}, {"LOCKGRAPH_SCAN_PLUGIN=" + (dir / "none.so")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Scan, AFileClangCannotParseIsNamedAndTheRestStillScanned) {
  ScratchDir dir;
  std::string broken = dir / "broken.cpp";
  write_text(broken, read_text(kTrees + "/nested/bank.cpp") + "\nvoid oops() { undeclared_call(); }\n");
  write_database(dir, {broken});
  RunResult r = run_program({kCli, "scan", "-p", dir.path(), "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("lockgraph: warning: " + broken + ": " + broken + ":20: use of undeclared identifier 'undeclared_call'"),
            std::string::npos)
      << r.err;
  json report = json::parse(r.out);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(cycle_of(report["findings"][0]), (std::vector<std::string>{"a", "b", "a"}));
}

// ---- the static half joined with a run of tests/e2e/programs/static_gap.cpp (A -> B only) ----

struct GapRun {
  ScratchDir dir;
  std::string trace() const { return dir / "trace"; }
  std::string scan() const { return dir / "scan.json"; }
};

std::unique_ptr<GapRun> run_static_gap() {
  auto g = std::make_unique<GapRun>();
  RunResult p = run_program({std::string(LOCKGRAPH_E2E_PROGRAMS) + "/e2e_static_gap"}, {"LOCKGRAPH_TRACE_DIR=" + g->trace()});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  RunResult s = run_program({kCli, "scan", "-p", LOCKGRAPH_BUILD_DIR,
                             std::string(LOCKGRAPH_SOURCE_DIR) + "/tests/e2e/programs/static_gap.cpp", "--save", g->scan()});
  EXPECT_EQ(s.exit_code, 1) << s.err;  // the source alone has the cycle
  return g;
}

TEST(ScanWithRun, SourceOnlyEdgeClosingACycleWithTheRunIsReported) {
  auto g = run_static_gap();
  RunResult plain = run_program({kCli, "analyze", g->trace(), "--format", "json"});
  EXPECT_EQ(plain.exit_code, 0) << plain.out;  // the run alone: one order, nothing to report
  RunResult r = run_program({kCli, "analyze", g->trace(), "--static", g->scan(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err << r.out;
  json f = single_static_cycle(r, {"A", "B", "A"}, {{11, "forward"}, {12, "forward"}, {16, "backward"}, {17, "backward"}});
  ASSERT_FALSE(f.empty());
  EXPECT_NE(f["locations"][1]["role"].get<std::string>().find("[ran]"), std::string::npos);
  EXPECT_NE(f["locations"][3]["role"].get<std::string>().find("[never ran]"), std::string::npos);
  EXPECT_NE(f["message"].get<std::string>().find("the run took A -> B; the source also takes B -> A"), std::string::npos)
      << f["message"];

  RunResult dot = run_program({kCli, "analyze", g->trace(), "--static", g->scan(), "--format", "dot"});
  EXPECT_NE(dot.out.find("\"A\" -> \"B\" [label=\""), std::string::npos) << dot.out;
  EXPECT_NE(dot.out.find("[confirmed by the source]"), std::string::npos) << dot.out;
  EXPECT_EQ(dot.out.find("[not found in the source]"), std::string::npos) << dot.out;
}

TEST(ScanWithRun, HierarchyFromATraceIsEnforcedOnRuns) {
  auto g = run_static_gap();
  RunResult h = run_program({kCli, "hierarchy", g->trace(), "-o", g->dir / "order.txt"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  std::string file = read_text(g->dir / "order.txt");
  EXPECT_NE(file.find("\nA -> B\n"), std::string::npos) << file;
  RunResult ok = run_program({kCli, "analyze", g->trace(), "--hierarchy", g->dir / "order.txt", "--format", "json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(json::parse(ok.out)["findings"].size(), 0u);

  write_text(g->dir / "reverse.txt", "# B must come first\nB -> A\n");
  RunResult bad = run_program({kCli, "analyze", g->trace(), "--hierarchy", g->dir / "reverse.txt", "--format", "json"});
  ASSERT_EQ(bad.exit_code, 1) << bad.err;
  json report = json::parse(bad.out);
  ASSERT_EQ(report["findings"].size(), 1u) << bad.out;
  const json& f = report["findings"][0];
  EXPECT_EQ(f["kind"], "hierarchy_violation");
  EXPECT_EQ(f["objects"], (json{"A", "B"}));
  EXPECT_EQ(sites_of(f), (Sites{{11, "forward"}, {12, "forward"}}));
  EXPECT_NE(f["message"].get<std::string>().find("reverse.txt:2"), std::string::npos) << f["message"];

  write_text(g->dir / "malformed.txt", "A -> B\nB then C\n");
  RunResult m = run_program({kCli, "analyze", g->trace(), "--hierarchy", g->dir / "malformed.txt"});
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_EQ(m.err, "lockgraph: error: " + g->dir / "malformed.txt" + ":2: expected \"BEFORE -> AFTER\", got \"B then C\"\n");
  write_text(g->dir / "cycle.txt", "A -> B\nB -> A\n");
  RunResult c = run_program({kCli, "analyze", g->trace(), "--hierarchy", g->dir / "cycle.txt"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("the declared order has a cycle: A -> B -> A"), std::string::npos) << c.err;
  write_text(g->dir / "not-a-scan.json", "{}");
  RunResult s = run_program({kCli, "analyze", g->trace(), "--static", g->dir / "not-a-scan.json"});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("not a saved scan"), std::string::npos) << s.err;
}

}  // namespace
}  // namespace lockgraph::testing
