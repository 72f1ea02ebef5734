// Saved lock-order graphs and `merge`: cycles closed only across runs, the filters that still
// apply (gate lock, reader-reader), and the algebra batch systems rely on (associative,
// commutative, idempotent), over hand-written traces of separate runs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "analyze_text.hpp"
#include "lockgraph/analyzer/saved_graph.hpp"

namespace lockgraph::testing {
namespace {

using analysis::SavedGraph;

// One single-threaded run taking `first` then `second` (optionally under `gate`, optionally
// shared): alone it shows no cycle.
SavedGraph run_graph(int pid, const std::string& first, const std::string& second, const std::string& gate = "",
                     bool shared = false) {
  const std::string mode = shared ? " flags=shared" : "";
  std::string t = "process 0 pid=" + std::to_string(pid) + " program=test" + std::to_string(pid) + "\n";
  t += "1 thread_start\n1 lock_create obj=" + first + "\n1 lock_create obj=" + second + "\n";
  if (!gate.empty()) t += "1 lock_create obj=" + gate + "\n1 lock_acquired obj=" + gate + " at=g.cpp:1 fn=gate\n";
  t += "1 lock_acquired obj=" + first + " at=p" + std::to_string(pid) + ".cpp:10 fn=f" + mode + "\n";
  t += "1 lock_acquired obj=" + second + " at=p" + std::to_string(pid) + ".cpp:11 fn=f" + mode + "\n";
  t += "1 lock_release obj=" + second + mode + "\n1 lock_release obj=" + first + mode + "\n";
  if (!gate.empty()) t += "1 lock_release obj=" + gate + "\n";
  std::istringstream in(t);
  analysis::TextTrace text;
  analysis::Problem err;
  EXPECT_TRUE(analysis::parse_text_trace(in, "run", &text, &err)) << err.message();
  auto set = analysis::TraceSet::from_text(std::move(text), "run");
  analysis::AnalysisResult r = analysis::analyze(*set);
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
  return SavedGraph::from_analysis(r, *set);
}

std::string saved_text(const SavedGraph& g) {
  ScratchFile f;
  std::string error;
  EXPECT_TRUE(g.save(f.path, &error)) << error;
  std::ifstream in(f.path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SavedGraph, OrdersFromTwoRunsCloseACycleNeitherRunShows) {
  SavedGraph g = run_graph(100, "A", "B");
  g.merge(run_graph(200, "B", "A"));
  EXPECT_EQ(g.runs.size(), 2u);
  auto cycles = g.cross_run_cycles();
  ASSERT_EQ(cycles.size(), 1u);
  const auto& f = cycles[0];
  EXPECT_EQ(f.kind, "deadlock_potential");
  EXPECT_EQ(f.cycle, (std::vector<std::string>{"A", "B", "A"}));
  ASSERT_EQ(f.locations.size(), 4u);
  EXPECT_EQ(f.locations[0].file, "p100.cpp");
  EXPECT_EQ(f.locations[0].line, 10u);
  EXPECT_EQ(f.locations[0].role, "holds A");
  EXPECT_EQ(f.locations[1].line, 11u);
  EXPECT_EQ(f.locations[1].role, "then acquires B");
  EXPECT_EQ(f.locations[2].file, "p200.cpp");
  EXPECT_EQ(f.locations[2].role, "holds B");
  EXPECT_NE(f.locations[0].thread.find("test100 (pid 100)"), std::string::npos) << f.locations[0].thread;
  EXPECT_NE(f.message.find("A -> B in test100 (pid 100); B -> A in test200 (pid 200)"), std::string::npos) << f.message;
  EXPECT_FALSE(f.fingerprint.empty());
}

TEST(SavedGraph, OneOrderEverywhereIsNoCycle) {
  SavedGraph g = run_graph(100, "A", "B");
  g.merge(run_graph(200, "A", "B"));
  EXPECT_TRUE(g.cross_run_cycles().empty());
  EXPECT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges.begin()->second.size(), 2u) << "both runs' observations are kept";
}

TEST(SavedGraph, ACommonGateLockInEveryRunSerializesTheCycle) {
  SavedGraph g = run_graph(100, "A", "B", "G");
  g.merge(run_graph(200, "B", "A", "G"));
  EXPECT_TRUE(g.cross_run_cycles().empty());
  // Without the gate in one of the runs, the cycle can close.
  SavedGraph h = run_graph(100, "A", "B", "G");
  h.merge(run_graph(300, "B", "A"));
  EXPECT_EQ(h.cross_run_cycles().size(), 1u);
}

TEST(SavedGraph, ReadersOnBothSidesNeverBlockEachOther) {
  SavedGraph g = run_graph(100, "S", "T", "", true);
  g.merge(run_graph(200, "T", "S", "", true));
  EXPECT_TRUE(g.cross_run_cycles().empty());
  SavedGraph h = run_graph(100, "S", "T", "", true);
  h.merge(run_graph(200, "T", "S"));  // exclusive in the second run: it can block the readers
  EXPECT_EQ(h.cross_run_cycles().size(), 1u);
}

TEST(SavedGraph, ACycleOneRunSawWholeIsLeftToThatRunsAnalysis) {
  // Run 100 took both orders (on one thread: its own analysis reports the inversion); merging
  // it with an unrelated run must not report the cycle a second time.
  std::istringstream in(
      "process 0 pid=100\n1 thread_start\n1 lock_create obj=A\n1 lock_create obj=B\n"
      "1 lock_acquired obj=A at=a.cpp:1\n1 lock_acquired obj=B at=a.cpp:2\n1 lock_release obj=B\n1 lock_release obj=A\n"
      "1 lock_acquired obj=B at=a.cpp:3\n1 lock_acquired obj=A at=a.cpp:4\n1 lock_release obj=A\n1 lock_release obj=B\n");
  analysis::TextTrace text;
  analysis::Problem err;
  ASSERT_TRUE(analysis::parse_text_trace(in, "run", &text, &err)) << err.message();
  auto set = analysis::TraceSet::from_text(std::move(text), "run");
  SavedGraph g = SavedGraph::from_analysis(analysis::analyze(*set), *set);
  g.merge(run_graph(200, "C", "D"));
  EXPECT_TRUE(g.cross_run_cycles().empty());
  // A third run taking B -> A again still adds nothing new: run 100 saw the whole cycle.
  g.merge(run_graph(300, "B", "A"));
  EXPECT_TRUE(g.cross_run_cycles().empty());
}

TEST(SavedGraph, ThreeLockCycleAcrossThreeRuns) {
  SavedGraph g = run_graph(1, "A", "B");
  g.merge(run_graph(2, "B", "C"));
  EXPECT_TRUE(g.cross_run_cycles().empty());
  g.merge(run_graph(3, "C", "A"));
  auto cycles = g.cross_run_cycles();
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0].cycle, (std::vector<std::string>{"A", "B", "C", "A"}));
  EXPECT_EQ(cycles[0].locations.size(), 6u);
}

TEST(SavedGraph, MergeIsAssociativeCommutativeAndIdempotent) {
  SavedGraph a = run_graph(1, "A", "B"), b = run_graph(2, "B", "C", "G"), c = run_graph(3, "C", "A");
  SavedGraph left = a;
  left.merge(b);
  left.merge(c);  // (a+b)+c
  SavedGraph bc = b;
  bc.merge(c);
  SavedGraph right = a;
  right.merge(bc);  // a+(b+c)
  SavedGraph swapped = c;
  swapped.merge(a);
  swapped.merge(b);  // c+a+b
  SavedGraph twice = left;
  twice.merge(left);
  twice.merge(b);
  const std::string expect = saved_text(left);
  EXPECT_EQ(saved_text(right), expect);
  EXPECT_EQ(saved_text(swapped), expect);
  EXPECT_EQ(saved_text(twice), expect);
  ASSERT_EQ(left.cross_run_cycles().size(), 1u);
  EXPECT_EQ(left.cross_run_cycles()[0].fingerprint, swapped.cross_run_cycles()[0].fingerprint);
}

TEST(SavedGraph, SaveLoadRoundTripAndPreciseErrors) {
  SavedGraph g = run_graph(1, "A", "B", "G");
  g.merge(run_graph(2, "B", "A"));
  ScratchFile f;
  std::string error;
  ASSERT_TRUE(g.save(f.path, &error)) << error;
  SavedGraph back;
  ASSERT_TRUE(SavedGraph::load(f.path, &back, &error)) << error;
  EXPECT_EQ(saved_text(back), saved_text(g));
  EXPECT_EQ(back.cross_run_cycles().size(), 1u);

  auto load_text = [&](const std::string& text) {
    std::ofstream(f.path, std::ios::trunc) << text;
    SavedGraph out;
    std::string e;
    EXPECT_FALSE(SavedGraph::load(f.path, &out, &e));
    return e;
  };
  EXPECT_NE(load_text("{\"lockgraph_graph\": 9, \"runs\": {}, \"edges\": []}").find("version 9 is not supported"),
            std::string::npos);
  EXPECT_NE(load_text("{\"findings\": []}").find("not a saved lock-order graph"), std::string::npos);
  EXPECT_NE(load_text("{\"lockgraph_graph\": 1, \"runs\"").find("malformed saved lock-order graph"), std::string::npos);
  std::string e = load_text(
      "{\"lockgraph_graph\": 1, \"runs\": {}, \"edges\": [{\"from\": \"A\", \"to\": \"B\", \"seen\": [{\"run\": \"x\"}]}]}");
  EXPECT_NE(e.find("names run x, which the file does not list"), std::string::npos) << e;
  EXPECT_EQ(e.rfind(f.path, 0), 0u) << "the error starts with the file name: " << e;
  SavedGraph none;
  EXPECT_FALSE(SavedGraph::load(f.path + ".missing", &none, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace lockgraph::testing
