// Stress without limits, end to end: the shapes where ThreadSanitizer and Helgrind have fixed
// limits (tests/e2e/programs/stress.cpp), traced for real, every record counted, analyzed exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

using nlohmann::json;

const std::string kCli = LOCKGRAPH_CLI;
const std::string kPrograms = LOCKGRAPH_E2E_PROGRAMS;

struct Stressed {
  ScratchDir dir;
  json report;
  int analyze_exit = -1;
  std::string trace() const { return dir.path() + "/trace"; }
  // Records of one kind in the trace (`lockgraph dump --stats`).
  std::uint64_t records(const std::string& kind) const { return dumped_records(kCli, trace(), kind); }

};

std::unique_ptr<Stressed> stress(const std::string& mode, int n) {
  auto s = std::make_unique<Stressed>();
  RunResult p = run_program({kPrograms + "/e2e_stress", mode, std::to_string(n)}, {"LOCKGRAPH_TRACE_DIR=" + s->trace()});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  RunResult a = run_program({kCli, "analyze", s->trace(), "--format", "json"});
  s->analyze_exit = a.exit_code;
  EXPECT_NE(a.exit_code, 2) << a.err;
  s->report = json::parse(a.out);
  EXPECT_TRUE(s->report["summary"]["problems"].empty()) << "nothing lost: " << s->report["summary"]["problems"].dump();
  return s;
}

TEST(Stress, OneThreadHoldingAThousandLocksAtOnce) {
  auto s = stress("hold", 1000);
  EXPECT_EQ(s->analyze_exit, 0);
  EXPECT_TRUE(s->report["findings"].empty()) << s->report["findings"].dump(1).substr(0, 500);
  EXPECT_EQ(s->records("lock_acquired"), 2000u);
  EXPECT_EQ(s->records("lock_release"), 2000u);
  // Every lock held while each later one was taken: n(n-1)/2 edges, none on a cycle.
  RunResult g = run_program({kCli, "graph", s->trace(), "--dot", s->dir / "g.dot"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.err.find("499500 lock-order edges, 0 in reported cycles"), std::string::npos) << g.err;
}

TEST(Stress, HundredThousandDistinctLocksKeepTheirIdentity) {
  auto s = stress("locks", 100000);
  EXPECT_EQ(s->analyze_exit, 1);
  EXPECT_EQ(s->records("lock_create"), 100002u);  // + the program's two global locks
  EXPECT_EQ(s->records("lock_acquired"), 200004u);
  ASSERT_EQ(s->report["findings"].size(), 1u) << s->report["findings"].dump(1).substr(0, 500);
  const json& f = s->report["findings"][0];
  EXPECT_EQ(f["kind"], "deadlock_potential");
  EXPECT_EQ(f["cycle"], json({"L99998", "L99999", "L99998"}));
}

TEST(Stress, ThousandThreadsAliveAtOnce) {
  auto s = stress("threads", 1000);
  EXPECT_EQ(s->analyze_exit, 0);
  EXPECT_TRUE(s->report["findings"].empty());
  EXPECT_EQ(s->report["summary"]["threads"], 1001);
  EXPECT_EQ(s->records("thread_start"), 1001u);
  EXPECT_EQ(s->records("lock_acquired"), 1000u);
}

TEST(Stress, FiftyLockCycleIsReportedWhole) {
  auto s = stress("cycle", 50);
  EXPECT_EQ(s->analyze_exit, 1);
  ASSERT_EQ(s->report["findings"].size(), 1u) << s->report["findings"].dump(1).substr(0, 500);
  const json& f = s->report["findings"][0];
  EXPECT_EQ(f["kind"], "deadlock_potential");
  json cycle = json::array();
  for (int i = 0; i < 50; ++i) cycle.push_back("L" + std::to_string(i));
  cycle.push_back("L0");
  EXPECT_EQ(f["cycle"], cycle);
  EXPECT_EQ(f["threads"].size(), 50u);
  EXPECT_EQ(f["locations"].size(), 100u);
}

TEST(Stress, TenThousandShortLivedThreads) {
  auto s = stress("short", 10000);
  EXPECT_EQ(s->analyze_exit, 0);
  EXPECT_TRUE(s->report["findings"].empty());
  EXPECT_EQ(s->report["summary"]["threads"], 10001);
  EXPECT_EQ(s->records("thread_end"), 10001u);  // + the main thread
  EXPECT_EQ(s->records("thread_join"), 10000u);
  EXPECT_EQ(s->records("lock_acquired"), 10000u);
}

TEST(Stress, RecursiveMutexTenThousandDeep) {
  auto s = stress("recurse", 10000);
  EXPECT_EQ(s->analyze_exit, 0);
  EXPECT_TRUE(s->report["findings"].empty()) << s->report["findings"].dump(1).substr(0, 500);
  EXPECT_EQ(s->records("lock_acquired"), 20000u);
  EXPECT_EQ(s->records("lock_release"), 20000u);
}

}  // namespace
}  // namespace lockgraph::testing
