// Sync-preserving race prediction (--races syncp): hand-written STD traces with known answers,
// and an exhaustive check against an independent oracle — a search over every sync-preserving
// correct reordering of small generated traces. And the candidate list's storage on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/std_generator.hpp"
#include "reorderings.hpp"
#include "std_test_support.hpp"
#include "predictive/candidate_list.hpp"
#include "predictive/sync_ideal.hpp"
#include "predictive/syncp.hpp"

namespace lockgraph::analysis {
namespace {

using testing::races;
using testing::Set;

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

// Racing pairs (earlier, later positions) by the definition: two conflicting accesses that are
// both next in some sync-preserving reordering.
std::set<std::pair<std::size_t, std::size_t>> racing_pairs(const StdTrace& t) {
  std::set<std::pair<std::size_t, std::size_t>> found;
  testing::Reorderings(t).explore([&](const testing::ReorderingState& s) {
    for (std::size_t a = 0; a < s.next.size(); ++a) {
      for (std::size_t b = a + 1; b < s.next.size(); ++b) {
        if (s.next[a] == s.npos || s.next[b] == s.npos) continue;
        const StdEvent &x = t.events[s.next[a]], &y = t.events[s.next[b]];
        bool access_x = x.op == StdOp::kRead || x.op == StdOp::kWrite;
        bool access_y = y.op == StdOp::kRead || y.op == StdOp::kWrite;
        if (access_x && access_y && x.target == y.target && (x.op == StdOp::kWrite || y.op == StdOp::kWrite)) {
          found.insert({std::min(s.next[a], s.next[b]), std::max(s.next[a], s.next[b])});
        }
      }
    }
  });
  return found;
}

// syncp over a whole trace, letting go of passed accesses every `release_every` events (0: never).
AnalysisResult syncp(const StdTrace& t, std::uint32_t release_every) {
  RacePredictor p(RaceAnalysis::kSyncp, kWcpDensePairs, release_every);
  p.on_events(t.events.data(), t.events.size());
  return p.finish(t, "gen");
}

// Every finding as "VAR:LINE1-LINE2 xCOUNT", in report order.
std::vector<std::string> answers(const AnalysisResult& r) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings) {
    out.push_back(f.objects.at(0) + ":" + std::to_string(f.locations.at(0).line) + "-" +
                  std::to_string(f.locations.at(1).line) + " x" + std::to_string(f.count));
  }
  return out;
}

TEST(SyncPreserving, AgreesWithAnExhaustiveSearchOfReorderings) {
  // Also with passed accesses let go of after every event, the most the rule can drop.
  for (const std::uint32_t release_every : {0u, 1u, kSyncpReleaseEvery}) {
  SCOPED_TRACE("release_every " + std::to_string(release_every));
  int traces_with_races = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    GeneratorOptions o = testing::generator(3, 2, 3, 22, 0.4, seed);
    o.nesting = 2;
    StdTrace t = generate_std_trace(o);
    // One location per event (its position + 1), so reported pairs are event pairs.
    for (std::size_t i = 0; i < t.events.size(); ++i) t.events[i].location = t.location_id(std::to_string(i + 1));
    const std::set<std::pair<std::size_t, std::size_t>> oracle = racing_pairs(t);
    // SyncP reports, for each access and each other thread, its earliest racing partner: the
    // reported pairs are races, and every racy (access, other thread) is covered.
    std::set<std::pair<std::size_t, std::size_t>> reported;
    for (const Finding& f : syncp(t, release_every).findings) {
      reported.insert({f.locations.at(0).line - 1, f.locations.at(1).line - 1});
    }
    for (const auto& p : reported) EXPECT_TRUE(oracle.count(p)) << "seed " << seed << ": not a race " << p.first + 1 << "-" << p.second + 1;
    auto covered = [&](const std::set<std::pair<std::size_t, std::size_t>>& s) {
      std::set<std::pair<std::size_t, std::uint32_t>> out;  // (later access, thread of the earlier)
      for (const auto& [a, b] : s) out.insert({b, t.events[a].thread});
      return out;
    };
    EXPECT_EQ(covered(reported), covered(oracle)) << "seed " << seed;
    if (!oracle.empty()) ++traces_with_races;
  }
  EXPECT_GT(traces_with_races, 30);  // the check is not vacuous
  }
}

TEST(SyncPreserving, LettingGoOfPassedAccessesChangesNoAnswer) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const StdTrace t = generate_std_trace(testing::generator(6, 8, 64, 40000, 0.05, seed));
    const auto kept = answers(syncp(t, 0));
    EXPECT_FALSE(kept.empty()) << "seed " << seed;
    for (const std::uint32_t every : {1u, 64u, kSyncpReleaseEvery}) {
      const AnalysisResult r = syncp(t, every);
      EXPECT_EQ(answers(r), kept) << "seed " << seed << ", every " << every;
      EXPECT_TRUE(r.problems.empty()) << "seed " << seed;
    }
  }
}

TEST(SyncPreserving, AThreadForkedAfterHistoryWasLetGoOfStartsFromItsParentsClosure) {
  // T0 and T1 take turns under L (each turn also reads the other's write of y, so the closures
  // move on and history is let go of); then T0 forks T2, which races with T1's latest write of x
  // and is ordered after T0's own.
  std::string text = "T0|fork(T1)|1\n";
  for (int i = 0; i < 2000; ++i) {
    text += "T0|acq(L)|2\nT0|w(y)|3\nT0|r(x)|4\nT0|rel(L)|5\nT1|acq(L)|6\nT1|r(y)|7\nT1|w(x)|8\nT1|rel(L)|9\n";
  }
  text += "T0|w(z)|10\nT0|fork(T2)|11\nT2|r(z)|12\nT2|w(x)|13\nT1|w(x)|14\n";
  const StdTrace t = testing::parse_ok(text);
  const AnalysisResult kept = syncp(t, 0);
  EXPECT_TRUE(kept.problems.empty());
  const std::vector<std::string> expected = answers(kept);
  EXPECT_TRUE(std::any_of(expected.begin(), expected.end(), [](const std::string& a) { return a.rfind("x:13-14 ", 0) == 0; }))
      << ::testing::PrintToString(expected);
  for (const std::uint32_t every : {1u, 8u, 64u}) {
    const AnalysisResult r = syncp(t, every);
    EXPECT_EQ(answers(r), expected) << "every " << every;
    EXPECT_TRUE(r.problems.empty()) << "every " << every;
  }
}

TEST(SyncPreserving, AThreadFirstSeenWithoutAForkAfterAccessesWereLetGoIsReported) {
  // T0 and T1 take turns under L; long after, T2 (never forked) writes x. Its closure starts
  // empty, so it could race with the turns let go of long ago: the answer says so.
  std::string text = "T0|fork(T1)|1\n";
  for (int i = 0; i < 3000; ++i) {
    text += "T0|acq(L)|2\nT0|w(x)|3\nT0|rel(L)|4\nT1|acq(L)|5\nT1|r(x)|6\nT1|rel(L)|7\n";
  }
  text += "T2|w(x)|8\n";
  const StdTrace t = testing::parse_ok(text);
  const AnalysisResult kept = syncp(t, 0);
  EXPECT_TRUE(kept.problems.empty());
  const AnalysisResult dropped = syncp(t, 64);
  ASSERT_EQ(dropped.problems.size(), 1u);
  EXPECT_NE(dropped.problems[0].reason.find("without a fork"), std::string::npos) << dropped.problems[0].reason;
  // The races with T2 that need no dropped access are still there.
  auto with_t2 = [](const AnalysisResult& r) {
    int n = 0;
    for (const Finding& f : r.findings) n += f.locations.at(1).line == 8;
    return n;
  };
  EXPECT_EQ(with_t2(kept), 2);  // with T0's write and T1's read
  EXPECT_EQ(with_t2(dropped), 2);
}

TEST(SyncPreserving, GeneratedTracesWithoutRacyAccessesHaveNoRace) {
  GeneratorOptions o = testing::generator(8, 16, 512, 100000, 0);
  EXPECT_EQ(predict_races(generate_std_trace(o), RaceAnalysis::kSyncp, "gen").findings.size(), 0u);
  o.racy = 0.05;
  AnalysisResult r = predict_races(generate_std_trace(o), RaceAnalysis::kSyncp, "gen");
  EXPECT_GT(r.findings.size(), 0u);
  for (const Finding& f : r.findings) EXPECT_GE(std::stoi(f.objects[0].substr(1)), 512 - 8) << f.objects[0];
}

}  // namespace
}  // namespace lockgraph::analysis

namespace lockgraph::analysis::predictive {
namespace {

TEST(SyncHistory, ARequirementAnEarlierRuleImpliesIsNotRecorded) {
  SyncHistory h;
  const std::uint32_t x = 0, y = 1, z = 2;
  const std::uint32_t t1 = 1, t2 = 2;
  h.write(t1, x, h.next_event(t1));  // T1 #1
  h.write(t1, y, h.next_event(t1));  // T1 #2
  h.read(t2, y, h.next_event(t2));   // T2 #1 needs T1's first 2 events: a rule
  h.read(t2, x, h.next_event(t2));   // T2 #2 needs T1's first 1: implied by T2 #1's rule
  h.write(t1, z, h.next_event(t1));  // T1 #3
  h.read(t2, z, h.next_event(t2));   // T2 #3 needs T1's first 3: a rule
  const RuleList& rules = h.rules(t2);
  ASSERT_EQ(rules.end(), 2u);
  EXPECT_EQ(rules[0].index, 1u);
  EXPECT_EQ(rules[0].value, 2u);
  EXPECT_EQ(rules[1].index, 3u);
  EXPECT_EQ(rules[1].value, 3u);
  // The closure of T2's second event still has T1's write of x (through the first rule).
  SyncIdeal j;
  j.raise(t2, 2);
  j.close(h);
  EXPECT_TRUE(j.contains(t1, 1));
  EXPECT_TRUE(j.contains(t1, 2));
  EXPECT_FALSE(j.contains(t1, 3));
}

// What syncp keeps follows the window the closures have not passed yet, not the trace: on a
// trace whose threads synchronize often, twice the events keep about as many candidates, rules
// and held-lock snapshots. (The snapshots grew with the trace, one per change of a thread's
// locks before an access, until they were let go of with their candidates.)
TEST(SyncpMemory, WhatIsKeptDoesNotGrowWithTheTrace) {
  GeneratorOptions o;
  o.threads = 8;
  o.locks = 8;
  o.variables = 64;
  o.events = 400000;
  o.seed = 11;
  const StdTrace t = generate_std_trace(o);
  SyncpPredictor p(kSyncpReleaseEvery);
  std::size_t half = 0;
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    p.on_event(t.events[i]);
    if (i + 1 == t.events.size() / 2) half = p.kept_entries();
  }
  const std::size_t all = p.kept_entries();
  ASSERT_GT(half, 0u);
  EXPECT_LT(all, half + half / 4) << "kept " << half << " entries at half the trace, " << all << " at its end";
  EXPECT_LT(all, t.events.size() / 20);
}

TEST(SyncHistory, ThreadsOutsideTheClosureMatchTheirDefinitionForEveryCount) {
  // The SSE2 and AVX2 paths compare four or eight threads at once as signed numbers; the edges
  // are where that could differ from the definition: no access (0), index 0 (1), the largest values, kUnbounded.
  const std::uint32_t edges[] = {0, 1, 2, 3, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xfffffffeu, kUnbounded};
  std::uint64_t state = 12345;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  for (int round = 0; round < 2000; ++round) {
    const std::uint32_t threads = 1 + static_cast<std::uint32_t>(next() >> 58);  // 1..64
    std::uint32_t latest[64], frontier[64];
    for (std::uint32_t u = 0; u < threads; ++u) {
      latest[u] = (next() >> 63) ? edges[(next() >> 33) % 9] : static_cast<std::uint32_t>(next() >> 60);
      frontier[u] = (next() >> 63) ? edges[(next() >> 33) % 9] : static_cast<std::uint32_t>(next() >> 60);
    }
    std::uint64_t want = 0;
    for (std::uint32_t u = 0; u < threads; ++u) {
      if (latest[u] != 0 && latest[u] - 1 > frontier[u]) want |= std::uint64_t(1) << u;
    }
    ASSERT_EQ(threads_outside(latest, frontier, threads), want) << "round " << round << ", " << threads << " threads";
    ASSERT_EQ(threads_outside_sse2(latest, frontier, threads), want) << "round " << round << ", " << threads << " threads";
  }
  if (!threads_outside_uses_avx2()) GTEST_SKIP() << "no AVX2 here: only the SSE2 path was compared";
}

TEST(CandidateList, KeepsOneInPlaceMovesToABlockAndDropsOnlyWhatIsPassedWhenFull) {
  using predictive::Candidate;
  using predictive::CandidateList;
  const auto access = [](std::uint32_t i) { return Candidate{i, (100 + i) | (i % 2 ? Candidate::kWrite : 0), i % 3}; };
  const auto expect_indices = [](const CandidateList& l, std::uint32_t first, std::uint32_t last) {
    ASSERT_EQ(l.end() - l.base(), last - first + 1);
    for (std::uint32_t p = l.base(); p < l.end(); ++p) {
      const Candidate& c = l[p];
      const std::uint32_t i = first + (p - l.base());
      ASSERT_EQ(c.index, i) << p;
      ASSERT_EQ(c.location(), 100 + i);
      ASSERT_EQ(c.write(), i % 2 == 1);
      ASSERT_EQ(c.held, i % 3);
    }
  };
  CandidateList l;
  EXPECT_FALSE(l.push(access(1), 0));
  EXPECT_EQ(l.next_slot(), nullptr);  // in place
  expect_indices(l, 1, 1);
  // A second while the first is alive: both in a block, at the same positions.
  EXPECT_FALSE(l.push(access(2), 0));
  EXPECT_NE(l.next_slot(), nullptr);
  expect_indices(l, 1, 2);
  // Not full: nothing is dropped, whatever is passed.
  for (std::uint32_t i = 3; i <= 8; ++i) EXPECT_FALSE(l.push(access(i), 100));
  expect_indices(l, 1, 8);
  EXPECT_EQ(l.base(), 0u);
  // Full: the passed ones (indices up to 5) go, positions stay.
  EXPECT_TRUE(l.push(access(9), 5));
  EXPECT_EQ(l.base(), 5u);
  expect_indices(l, 6, 9);
  EXPECT_EQ(l[5].index, 6u);
  // Full again and every one passed: the new one is in place again.
  for (std::uint32_t i = 10; i <= 13; ++i) EXPECT_FALSE(l.push(access(i), 0));
  EXPECT_TRUE(l.push(access(14), 13));
  expect_indices(l, 14, 14);
  EXPECT_EQ(l.base(), 13u);
  // In place and passed: replaced without a block.
  EXPECT_TRUE(l.push(access(15), 14));
  expect_indices(l, 15, 15);
  // Nothing passed: the block grows past its first room.
  for (std::uint32_t i = 16; i <= 40; ++i) EXPECT_FALSE(l.push(access(i), 0));
  expect_indices(l, 15, 40);
  CandidateList moved = std::move(l);
  expect_indices(moved, 15, 40);
  EXPECT_EQ(l.end() - l.base(), 0u);
}

}  // namespace
}  // namespace lockgraph::analysis::predictive
