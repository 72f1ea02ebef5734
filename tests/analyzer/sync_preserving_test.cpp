// Sync-preserving race prediction (--races syncp): hand-written STD traces with known answers,
// and an exhaustive check against an independent oracle — a search over every sync-preserving
// correct reordering of small generated traces.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/std_generator.hpp"

namespace lockgraph::analysis {
namespace {

using Set = std::set<std::string>;

// Each race as "VAR:LINE1-LINE2".
Set races(const std::string& text, RaceAnalysis a) {
  StdTrace t;
  Problem p;
  EXPECT_TRUE(StdTrace::parse(text, "test.std", &t, &p)) << p.message();
  Set out;
  for (const Finding& f : predict_races(t, a, "test.std").findings) {
    out.insert(f.objects.at(0) + ":" + std::to_string(f.locations.at(0).line) + "-" + std::to_string(f.locations.at(1).line));
  }
  return out;
}

TEST(SyncPreserving, RaceHiddenBehindAnUnrelatedCriticalSection) {
  const char* trace =
      "T1|w(x)|10\n"
      "T1|acq(L)|11\n"
      "T1|rel(L)|12\n"
      "T2|acq(L)|20\n"
      "T2|rel(L)|21\n"
      "T2|w(x)|22\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kHb), Set{});
  EXPECT_EQ(races(trace, RaceAnalysis::kSyncp), Set{"x:10-22"});
}

TEST(SyncPreserving, WcpReportsARaceThatNeedsAReadToChangeItsWriteSyncpDoesNot) {
  // T2 read y from T1, so T1's write of x is before T2's: the x "race" WCP (and HB) report is in
  // no reordering where T2's read still sees T1's write.
  const char* trace =
      "T1|w(x)|1\n"
      "T1|w(y)|2\n"
      "T2|r(y)|3\n"
      "T2|w(x)|4\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kWcp), (Set{"x:1-4", "y:2-3"}));
  EXPECT_EQ(races(trace, RaceAnalysis::kSyncp), Set{"y:2-3"});
}

TEST(SyncPreserving, FindsARaceWcpMissesWhereT2CanRunFirst) {
  // The critical sections conflict on y, so WCP orders T1's release before T2's write of y, and
  // by composition with program order T1's write of x before T2's. But T2's whole critical
  // section can run before T1's: then both writes of x are next.
  const char* trace =
      "T1|w(x)|1\n"
      "T1|acq(L)|2\n"
      "T1|w(y)|3\n"
      "T1|rel(L)|4\n"
      "T2|acq(L)|5\n"
      "T2|w(y)|6\n"
      "T2|rel(L)|7\n"
      "T2|w(x)|8\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kWcp), Set{});
  EXPECT_EQ(races(trace, RaceAnalysis::kSyncp), Set{"x:1-8"});
}

TEST(SyncPreserving, AccessesUnderOneLockAndForkJoinAreOrdered) {
  const char* trace =
      "T0|w(x)|1\n"
      "T0|fork(T1)|2\n"
      "T1|acq(L)|3\n"
      "T1|w(x)|4\n"
      "T1|rel(L)|5\n"
      "T0|acq(L)|6\n"
      "T0|r(x)|7\n"
      "T0|rel(L)|8\n"
      "T0|join(T1)|9\n"
      "T0|w(x)|10\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kSyncp), Set{});
}

TEST(SyncPreserving, ReentrantSectionsEndAtTheOutermostRelease) {
  const char* trace =
      "T1|acq(L)|1\n"
      "T1|acq(L)|2\n"
      "T1|rel(L)|3\n"
      "T1|w(x)|4\n"  // still inside the outer section
      "T1|rel(L)|5\n"
      "T2|acq(L)|6\n"
      "T2|w(x)|7\n"
      "T2|rel(L)|8\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kSyncp), Set{});
}

// --- the oracle: every sync-preserving correct reordering, by exhaustive search --------------

struct Oracle {
  const StdTrace& t;
  std::vector<std::vector<std::size_t>> by_thread;  // event positions per thread
  std::vector<std::size_t> rf;                      // per read: position of its write, or npos
  std::vector<std::size_t> release_of;              // per acquire: position of its release, or npos
  std::set<std::pair<std::size_t, std::size_t>> found;  // racing (earlier, later) positions
  std::set<std::vector<std::size_t>> seen;
  static constexpr std::size_t npos = ~std::size_t(0);

  explicit Oracle(const StdTrace& trace) : t(trace) {
    std::size_t threads = t.threads.size();
    by_thread.resize(threads);
    rf.assign(t.events.size(), npos);
    release_of.assign(t.events.size(), npos);
    std::map<std::uint32_t, std::size_t> last_write;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> open;
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      const StdEvent& e = t.events[i];
      by_thread[e.thread].push_back(i);
      if (e.op == StdOp::kRead && last_write.count(e.target)) rf[i] = last_write[e.target];
      if (e.op == StdOp::kWrite) last_write[e.target] = i;
      if (e.op == StdOp::kAcquire) open[{e.thread, e.target}] = i;
      if (e.op == StdOp::kRelease) release_of[open[{e.thread, e.target}]] = i;
    }
  }

  std::size_t next(const std::vector<std::size_t>& f, std::uint32_t u) const {
    return f[u] < by_thread[u].size() ? by_thread[u][f[u]] : npos;
  }
  bool executed(const std::vector<std::size_t>& f, std::size_t pos) const {
    const StdEvent& e = t.events[pos];
    const auto& list = by_thread[e.thread];
    return static_cast<std::size_t>(std::find(list.begin(), list.end(), pos) - list.begin()) < f[e.thread];
  }
  bool started(const std::vector<std::size_t>& f, std::uint32_t u) const {
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      if (t.events[i].op == StdOp::kFork && t.events[i].target == u) return executed(f, i);
    }
    return true;  // never forked: running from the start
  }

  // State: per thread the number of events run, then per variable the last write run.
  void explore(std::vector<std::size_t> f, std::vector<std::size_t> writer) {
    std::vector<std::size_t> key = f;
    key.insert(key.end(), writer.begin(), writer.end());
    if (!seen.insert(key).second) return;
    const auto threads = static_cast<std::uint32_t>(by_thread.size());
    for (std::uint32_t a = 0; a < threads; ++a) {
      for (std::uint32_t b = a + 1; b < threads; ++b) {
        std::size_t ea = next(f, a), eb = next(f, b);
        if (ea == npos || eb == npos || !started(f, a) || !started(f, b)) continue;
        const StdEvent &x = t.events[ea], &y = t.events[eb];
        bool access_x = x.op == StdOp::kRead || x.op == StdOp::kWrite;
        bool access_y = y.op == StdOp::kRead || y.op == StdOp::kWrite;
        if (access_x && access_y && x.target == y.target && (x.op == StdOp::kWrite || y.op == StdOp::kWrite)) {
          found.insert({std::min(ea, eb), std::max(ea, eb)});
        }
      }
    }
    for (std::uint32_t u = 0; u < threads; ++u) {
      std::size_t pos = next(f, u);
      if (pos == npos || !started(f, u)) continue;
      const StdEvent& e = t.events[pos];
      std::vector<std::size_t> w = writer;
      if (e.op == StdOp::kRead && w[e.target] != rf[pos]) continue;
      if (e.op == StdOp::kWrite) w[e.target] = pos;
      if (e.op == StdOp::kJoin && f[e.target] < by_thread[e.target].size()) continue;
      if (e.op == StdOp::kAcquire) {
        bool blocked = false;
        for (std::size_t i = 0; i < t.events.size() && !blocked; ++i) {
          const StdEvent& o = t.events[i];
          if (o.op != StdOp::kAcquire || o.target != e.target || i == pos || !executed(f, i)) continue;
          if (i > pos) blocked = true;                                                   // order kept
          if (release_of[i] == npos || !executed(f, release_of[i])) blocked = true;      // held
        }
        if (blocked) continue;
      }
      std::vector<std::size_t> g = f;
      ++g[u];
      explore(g, w);
    }
  }
};

TEST(SyncPreserving, AgreesWithAnExhaustiveSearchOfReorderings) {
  int traces_with_races = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    GeneratorOptions o;
    o.threads = 3;
    o.locks = 2;
    o.variables = 3;
    o.events = 22;
    o.nesting = 2;
    o.racy = 0.4;
    o.seed = seed;
    StdTrace t = generate_std_trace(o);
    // One location per event (its position + 1), so reported pairs are event pairs.
    for (std::size_t i = 0; i < t.events.size(); ++i) t.events[i].location = t.location_id(std::to_string(i + 1));
    Oracle oracle(t);
    oracle.explore(std::vector<std::size_t>(t.threads.size(), 0), std::vector<std::size_t>(t.variables.size(), Oracle::npos));
    // SyncP reports, for each access and each other thread, its earliest racing partner: the
    // reported pairs are races, and every racy (access, other thread) is covered.
    std::set<std::pair<std::size_t, std::size_t>> reported;
    for (const Finding& f : predict_races(t, RaceAnalysis::kSyncp, "gen").findings) {
      reported.insert({f.locations.at(0).line - 1, f.locations.at(1).line - 1});
    }
    for (const auto& p : reported) EXPECT_TRUE(oracle.found.count(p)) << "seed " << seed << ": not a race " << p.first + 1 << "-" << p.second + 1;
    auto covered = [&](const std::set<std::pair<std::size_t, std::size_t>>& s) {
      std::set<std::pair<std::size_t, std::uint32_t>> out;  // (later access, thread of the earlier)
      for (const auto& [a, b] : s) out.insert({b, t.events[a].thread});
      return out;
    };
    EXPECT_EQ(covered(reported), covered(oracle.found)) << "seed " << seed;
    if (!oracle.found.empty()) ++traces_with_races;
  }
  EXPECT_GT(traces_with_races, 30);  // the check is not vacuous
}

TEST(SyncPreserving, GeneratedTracesWithoutRacyAccessesHaveNoRace) {
  GeneratorOptions o;
  o.events = 100000;
  o.threads = 8;
  o.locks = 16;
  o.variables = 512;
  o.racy = 0;
  EXPECT_EQ(predict_races(generate_std_trace(o), RaceAnalysis::kSyncp, "gen").findings.size(), 0u);
  o.racy = 0.05;
  AnalysisResult r = predict_races(generate_std_trace(o), RaceAnalysis::kSyncp, "gen");
  EXPECT_GT(r.findings.size(), 0u);
  for (const Finding& f : r.findings) EXPECT_GE(std::stoi(f.objects[0].substr(1)), 512 - 8) << f.objects[0];
}

}  // namespace
}  // namespace lockgraph::analysis
