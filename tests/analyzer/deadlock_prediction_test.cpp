// Sound deadlock prediction (sync-preserving deadlocks) over hand-written STD traces: cycles a
// reordering reaches (with a witness that is checked by replaying it), and cycles that a gate
// lock, fork/join or a read's write rule out.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lockgraph/analyzer/deadlock_prediction.hpp"
#include "reorderings.hpp"
#include "std_test_support.hpp"

namespace lockgraph::analysis {
namespace {

using testing::parse_ok;

std::string op_text(const StdTrace& t, const StdEvent& e) {
  switch (e.op) {
    case StdOp::kAcquire: return "acq(" + t.locks[e.target] + ")";
    case StdOp::kRelease: return "rel(" + t.locks[e.target] + ")";
    case StdOp::kFork: return "fork(" + t.threads[e.target] + ")";
    case StdOp::kJoin: return "join(" + t.threads[e.target] + ")";
    default: return "";
  }
}

// The witness must be a real schedule of this trace: each thread runs a prefix of its own lock
// operations in order and then blocks on its next one; each lock's acquisitions keep the trace's
// order; a lock is only taken when free; every blocked thread waits for a lock another blocked
// thread holds.
void expect_valid_witness(const StdTrace& t, const Finding& f) {
  ASSERT_FALSE(f.witness.empty());
  std::map<std::string, std::vector<std::string>> trace_ops, witness_ops;
  std::map<std::string, std::vector<std::string>> lock_order;  // lock -> acquiring threads, trace order
  for (const StdEvent& e : t.events) {
    std::string op = op_text(t, e);
    if (!op.empty()) trace_ops[t.threads[e.thread]].push_back(op);
  }
  std::map<std::string, std::string> holder;
  std::map<std::string, std::string> waits_for;
  for (const ScheduleStep& s : f.witness) {
    witness_ops[s.thread].push_back(s.operation);
    std::string lock = s.operation.substr(4, s.operation.size() - 5);
    if (s.blocked) {
      ASSERT_EQ(s.operation.rfind("acq(", 0), 0u);
      ASSERT_TRUE(holder.count(lock)) << "blocked on a free lock " << lock;
      EXPECT_NE(holder[lock], s.thread);
      waits_for[s.thread] = holder[lock];
    } else if (s.operation.rfind("acq(", 0) == 0) {
      EXPECT_FALSE(holder.count(lock)) << s.thread << " takes " << lock << " held by " << holder[lock];
      holder[lock] = s.thread;
    } else if (s.operation.rfind("rel(", 0) == 0) {
      EXPECT_EQ(holder[lock], s.thread);
      holder.erase(lock);
    }
  }
  for (const auto& [thread, ops] : witness_ops) {
    const auto& all = trace_ops[thread];
    ASSERT_LE(ops.size(), all.size());
    EXPECT_EQ(ops, std::vector<std::string>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(ops.size()))) << thread;
  }
  // Everyone blocked waits for someone blocked.
  for (const auto& [thread, on] : waits_for) EXPECT_TRUE(waits_for.count(on)) << thread << " waits for " << on;
  EXPECT_EQ(waits_for.size(), f.cycle.size() - 1);
}

std::vector<Finding> predict(const StdTrace& t) { return predict_deadlocks(t, "test.std").findings; }

TEST(DeadlockPrediction, AbbaIsPredictedWithAWitness) {
  StdTrace t = parse_ok(
      "T1|acq(A)|1\nT1|acq(B)|2\nT1|rel(B)|3\nT1|rel(A)|4\n"
      "T2|acq(B)|5\nT2|acq(A)|6\nT2|rel(A)|7\nT2|rel(B)|8\n");
  auto f = predict(t);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kDeadlockPredicted);
  EXPECT_EQ(f[0].cycle, (std::vector<std::string>{"A", "B", "A"}));
  ASSERT_EQ(f[0].locations.size(), 4u);
  EXPECT_EQ(f[0].locations[0].line, 1u);  // T1 holds A
  EXPECT_EQ(f[0].locations[1].line, 2u);  // then acquires B
  EXPECT_EQ(f[0].locations[2].line, 5u);
  EXPECT_EQ(f[0].locations[3].line, 6u);
  expect_valid_witness(t, f[0]);
  EXPECT_EQ(f[0].witness.size(), 4u);  // acq(A), acq(B), then both block
  // A long witness keeps its last steps and counts the others.
  DeadlockPredictionOptions short_witness;
  short_witness.witness_steps = 1;
  auto cut = predict_deadlocks(t, "test.std", short_witness).findings;
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0].witness_omitted, 1u);
  ASSERT_EQ(cut[0].witness.size(), 3u);
  EXPECT_EQ(cut[0].witness[0].operation, "acq(B)");  // T2's, the second step
  EXPECT_EQ(cut[0].witness[0].thread, "T2");
}

TEST(DeadlockPrediction, ThreeThreadCycleAfterUnrelatedWork) {
  StdTrace t = parse_ok(
      "T0|fork(T1)|1\nT0|fork(T2)|2\nT0|fork(T3)|3\n"
      "T1|acq(A)|10\nT1|acq(B)|11\nT1|rel(B)|12\nT1|rel(A)|13\n"
      "T2|acq(X)|20\nT2|w(v)|21\nT2|rel(X)|22\n"
      "T2|acq(B)|23\nT2|acq(C)|24\nT2|rel(C)|25\nT2|rel(B)|26\n"
      "T3|acq(X)|30\nT3|r(v)|31\nT3|rel(X)|32\n"
      "T3|acq(C)|33\nT3|acq(A)|34\nT3|rel(A)|35\nT3|rel(C)|36\n");
  auto f = predict(t);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kDeadlockPredicted);
  EXPECT_EQ(f[0].cycle.size(), 4u);
  expect_valid_witness(t, f[0]);
}

TEST(DeadlockPrediction, AGateLockRulesTheCycleOut) {
  StdTrace t = parse_ok(
      "T1|acq(G)|1\nT1|acq(A)|2\nT1|acq(B)|3\nT1|rel(B)|4\nT1|rel(A)|5\nT1|rel(G)|6\n"
      "T2|acq(G)|7\nT2|acq(B)|8\nT2|acq(A)|9\nT2|rel(A)|10\nT2|rel(B)|11\nT2|rel(G)|12\n");
  EXPECT_TRUE(predict(t).empty());
}

TEST(DeadlockPrediction, ForkAfterTheFirstCycleHalfStaysPotential) {
  // T2 starts only after T1 took A then B: no schedule has both waiting.
  StdTrace t = parse_ok(
      "T1|acq(A)|1\nT1|acq(B)|2\nT1|rel(B)|3\nT1|rel(A)|4\nT1|fork(T2)|5\n"
      "T2|acq(B)|6\nT2|acq(A)|7\nT2|rel(A)|8\nT2|rel(B)|9\n");
  auto f = predict(t);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kDeadlockPotential);
  EXPECT_TRUE(f[0].witness.empty());
}

TEST(DeadlockPrediction, AReadOfTheOtherThreadsWriteStaysPotential) {
  // T2 reads what T1 wrote after its A-B section: T2's B-A section must come after it.
  StdTrace t = parse_ok(
      "T1|acq(A)|1\nT1|acq(B)|2\nT1|rel(B)|3\nT1|rel(A)|4\nT1|w(flag)|5\n"
      "T2|r(flag)|6\nT2|acq(B)|7\nT2|acq(A)|8\nT2|rel(A)|9\nT2|rel(B)|10\n");
  auto f = predict(t);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kDeadlockPotential);
}

TEST(DeadlockPrediction, CriticalSectionOrderOnAThirdLockStaysPotential) {
  // T2 takes C briefly before its B-A section, after T1's C section (which holds the A-B one).
  StdTrace t = parse_ok(
      "T1|acq(C)|1\nT1|acq(A)|2\nT1|acq(B)|3\nT1|rel(B)|4\nT1|rel(A)|5\nT1|rel(C)|6\n"
      "T2|acq(C)|7\nT2|rel(C)|8\nT2|acq(B)|9\nT2|acq(A)|10\nT2|rel(A)|11\nT2|rel(B)|12\n");
  // No gate lock. The deadlock is real, but only if T2's C section runs before T1's: keeping C's
  // sections in trace order, T1's A-B completes first. Sync-preserving prediction is sound, not
  // complete: this stays potential.
  auto f = predict(t);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kDeadlockPotential);
}

TEST(DeadlockPrediction, LaterInstanceOfTheCycleIsFound) {
  // The first B-A section of T2 comes after a read of T1's write (not predictable); the second
  // one, in a fresh thread T3 forked early, is.
  StdTrace t = parse_ok(
      "T0|fork(T1)|1\nT0|fork(T2)|2\nT0|fork(T3)|3\n"
      "T1|acq(A)|10\nT1|acq(B)|11\nT1|rel(B)|12\nT1|rel(A)|13\nT1|w(flag)|14\n"
      "T2|r(flag)|20\nT2|acq(B)|21\nT2|acq(A)|22\nT2|rel(A)|23\nT2|rel(B)|24\n"
      "T3|acq(B)|30\nT3|acq(A)|31\nT3|rel(A)|32\nT3|rel(B)|33\n");
  auto f = predict(t);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, kDeadlockPredicted);
  EXPECT_EQ(f[0].threads, (std::vector<std::string>{"T1", "T3"}));
  expect_valid_witness(t, f[0]);
}

// A random execution: 3 threads over 3 locks and 2 variables, each running a few steps — two
// nested locks in a random order with an access inside, one critical section, or a bare access —
// interleaved by a random scheduler that respects lock ownership. An execution that deadlocks
// for real is retried (its trace would stop short). Each event's location is its line.
StdTrace random_execution(std::mt19937& rng) {
  struct Op {
    StdOp op;
    int target;
  };
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (;;) {
    std::vector<std::vector<Op>> program(3);
    for (auto& ops : program) {
      for (int step = 0, steps = 2 + pick(2); step < steps; ++step) {
        int kind = pick(3), a = pick(3), b = (a + 1 + pick(2)) % 3, v = pick(2);
        StdOp access = pick(2) ? StdOp::kWrite : StdOp::kRead;
        if (kind == 0) {
          ops.insert(ops.end(), {{StdOp::kAcquire, a}, {access, v}, {StdOp::kAcquire, b}, {StdOp::kRelease, b}, {StdOp::kRelease, a}});
        } else if (kind == 1) {
          ops.insert(ops.end(), {{StdOp::kAcquire, a}, {access, v}, {StdOp::kRelease, a}});
        } else {
          ops.push_back({access, v});
        }
      }
    }
    std::vector<std::size_t> at(3, 0);
    std::vector<int> holder(3, -1);
    std::string text;
    int line = 0;
    bool stuck = false;
    for (;;) {
      std::vector<int> ready;
      bool left = false;
      for (int t = 0; t < 3; ++t) {
        if (at[t] == program[t].size()) continue;
        left = true;
        const Op& o = program[t][at[t]];
        if (o.op != StdOp::kAcquire || holder[o.target] == -1) ready.push_back(t);
      }
      if (!left) break;
      if (ready.empty()) {
        stuck = true;
        break;
      }
      int t = ready[static_cast<std::size_t>(pick(static_cast<int>(ready.size())))];
      const Op& o = program[t][at[t]++];
      if (o.op == StdOp::kAcquire) holder[o.target] = t;
      if (o.op == StdOp::kRelease) holder[o.target] = -1;
      const bool lock = o.op == StdOp::kAcquire || o.op == StdOp::kRelease;
      std::string name = lock ? "L" + std::to_string(o.target) : "v" + std::to_string(o.target);
      text += "T" + std::to_string(t) + "|" + std::string(std_op_name(o.op)) + "(" + name + ")|" + std::to_string(++line) + "\n";
    }
    if (!stuck) return parse_ok(text);
  }
}

// Lock sets of the deadlocks some sync-preserving reordering reaches: threads each waiting for
// a lock the next one holds, around a cycle.
std::set<std::vector<std::string>> reachable_deadlocks(const StdTrace& t) {
  std::set<std::vector<std::string>> found;
  testing::Reorderings(t).explore([&](const testing::ReorderingState& s) {
    const std::size_t n = s.next.size();
    std::vector<std::size_t> waits_for(n, s.npos), wanted(n, s.npos);
    for (std::size_t u = 0; u < n; ++u) {
      if (s.next[u] == s.npos || t.events[s.next[u]].op != StdOp::kAcquire) continue;
      std::size_t h = s.holder[t.events[s.next[u]].target];
      if (h != s.npos && h != u) waits_for[u] = h, wanted[u] = t.events[s.next[u]].target;
    }
    for (std::size_t start = 0; start < n; ++start) {
      std::vector<std::size_t> path;
      std::size_t u = start;
      while (u != s.npos && std::find(path.begin(), path.end(), u) == path.end()) path.push_back(u), u = waits_for[u];
      if (u != start) continue;  // start is not on a cycle
      std::vector<std::string> locks;
      for (std::size_t v : path) locks.push_back(t.locks[wanted[v]]);
      std::sort(locks.begin(), locks.end());
      found.insert(locks);
    }
  });
  return found;
}

TEST(DeadlockPrediction, AgreesWithAnExhaustiveSearchOfReorderings) {
  std::mt19937 rng(12345);
  int with_deadlock = 0, with_potential_only = 0;
  for (int round = 0; round < 300; ++round) {
    StdTrace t = random_execution(rng);
    std::set<std::vector<std::string>> predicted, potential;
    for (const Finding& f : predict(t)) {
      std::vector<std::string> locks = f.objects;
      std::sort(locks.begin(), locks.end());
      (f.kind == kDeadlockPredicted ? predicted : potential).insert(locks);
      if (f.kind == kDeadlockPredicted) expect_valid_witness(t, f);
    }
    std::ostringstream text;
    t.write(text);
    EXPECT_EQ(predicted, reachable_deadlocks(t)) << text.str();
    if (!predicted.empty()) ++with_deadlock;
    if (predicted.empty() && !potential.empty()) ++with_potential_only;
  }
  EXPECT_GT(with_deadlock, 20);        // the comparison is not vacuous on either side
  EXPECT_GT(with_potential_only, 5);
}

TEST(DeadlockPrediction, NoCycleNoSecondPass) {
  StdTrace t = parse_ok("T1|acq(A)|1\nT1|acq(B)|2\nT1|rel(B)|3\nT1|rel(A)|4\nT2|acq(A)|5\nT2|acq(B)|6\n");
  int replays = 0;
  DeadlockPredictor p;
  for (const StdEvent& e : t.events) p.on_event(e);
  AnalysisResult r = p.finish([&](const StdTrace::EventSink&) { ++replays; }, t, "test.std");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(replays, 0);
}

}  // namespace
}  // namespace lockgraph::analysis
