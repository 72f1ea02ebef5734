// data_race and unprotected_write over hand-written traces: every happens-before source removes
// the race; its absence leaves it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "analyze_text.hpp"
#include "detectors/race_shadow.hpp"

namespace lockgraph::testing {
namespace {

using analysis::kDataRace;
using analysis::kUnprotectedWrite;

// Thread 2 writes x, then SYNC_RELEASE; thread 3 SYNC_ACQUIRE, then writes x.
std::string handoff(const std::string& release, const std::string& acquire) {
  return "2 var_name obj=0x1000 value=4 name=x\n"
         "2 write obj=0x1000 size=4 at=r.cpp:10 fn=producer\n" +
         release + "\n" + acquire +
         "\n"
         "3 write obj=0x1000 size=4 at=r.cpp:20 fn=consumer\n";
}

TEST(Races, UnorderedWritesRaceWithBothSitesAndTheName) {
  auto r = analyze_text(handoff("2 thread_end", "3 thread_start"));
  auto d = of_kind(r, kDataRace);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->objects, (std::vector<std::string>{"x"}));
  ASSERT_EQ(d[0]->locations.size(), 2u);
  EXPECT_EQ(d[0]->locations[0].line, 10u);
  EXPECT_EQ(d[0]->locations[0].function, "producer");
  EXPECT_EQ(d[0]->locations[0].role, "write by thread 2");
  EXPECT_EQ(d[0]->locations[1].line, 20u);
  EXPECT_EQ(d[0]->locations[1].role, "write by thread 3");
  EXPECT_EQ(d[0]->count, 1u);
}

struct HandOff {
  const char* name;
  const char* release;
  const char* acquire;
};

class NoRaceAcross : public ::testing::TestWithParam<HandOff> {};

TEST_P(NoRaceAcross, HandOff) {
  auto r = analyze_text(handoff(GetParam().release, GetParam().acquire));
  EXPECT_TRUE(of_kind(r, kDataRace).empty()) << GetParam().name << ": " << kinds(r);
}

INSTANTIATE_TEST_SUITE_P(
    EveryHappensBeforeSource, NoRaceAcross,
    ::testing::Values(
        HandOff{"lock", "2 lock_acquired obj=M seq=1\n2 lock_release obj=M seq=2",
                "3 lock_acquired obj=M seq=3\n3 lock_release obj=M seq=4"},
        HandOff{"semaphore", "2 sem_release obj=S seq=1", "3 sem_acquired obj=S seq=2"},
        HandOff{"event", "2 event_set obj=E seq=1", "3 event_wait_end obj=E seq=2 flags=1"},
        HandOff{"condition variable (through its mutex)",
                "2 lock_acquired obj=M\n2 cond_notify obj=C seq=1\n2 lock_release obj=M",
                "3 lock_acquired obj=M\n3 cond_wait_end obj=C value=0\n3 lock_release obj=M"},
        HandOff{"barrier", "2 barrier_arrive obj=B seq=1 value=1", "3 barrier_depart obj=B seq=2 value=1"},
        HandOff{"pool submit -> task", "2 pool_submit obj=P value=7", "3 pool_task_start obj=P value=7"},
        HandOff{"task -> result", "2 pool_task_end obj=P value=7", "3 pool_result obj=P value=7"},
        HandOff{"task -> done callback", "2 pool_task_end obj=P value=7", "3 pool_callback obj=P value=7"},
        HandOff{"thread create", "2 thread_create obj=3", "3 thread_start obj=2"},
        HandOff{"thread join", "2 thread_end", "3 thread_join obj=2"},
        HandOff{"annotation", "2 hb_release obj=K seq=1", "3 hb_acquire obj=K seq=2"}));

TEST(Races, EventWaitThatTimedOutOrdersNothing) {
  auto r = analyze_text(handoff("2 event_set obj=E seq=1", "3 event_wait_end obj=E flags=0"));
  EXPECT_EQ(of_kind(r, kDataRace).size(), 1u) << kinds(r);
}

TEST(Races, ForkOrdersParentBeforeChildProcess) {
  auto r = analyze_text(R"(
process 0 pid=10
process 1 pid=11 ppid=10 fork=1
0:1 write obj=0x1000 size=4 at=f.cpp:1
0:1 process_fork seq=1
1:1 thread_start
1:1 write obj=0x1000 size=4 at=f.cpp:2
)");
  EXPECT_TRUE(of_kind(r, kDataRace).empty()) << kinds(r);
}

TEST(Races, ReleaseStoreAcquireLoadOrdersTheHandOff) {
  // flags = operation | order << 2: store = 2, load = 1; release = 3, acquire = 2, relaxed = 0.
  auto ordered = analyze_text(handoff("2 atomic obj=0x2000 value=4 flags=14", "3 atomic obj=0x2000 value=4 flags=9"));
  EXPECT_TRUE(of_kind(ordered, kDataRace).empty()) << kinds(ordered);
  auto relaxed = analyze_text(handoff("2 atomic obj=0x2000 value=4 flags=2", "3 atomic obj=0x2000 value=4 flags=1"));
  EXPECT_EQ(of_kind(relaxed, kDataRace).size(), 1u) << kinds(relaxed);
}

TEST(Races, AtomicsNeverRace) {
  auto r = analyze_text(R"(
2 atomic obj=0x2000 value=4 flags=2
3 atomic obj=0x2000 value=4 flags=3
2 atomic obj=0x2000 value=4 flags=1
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(Races, ReadReadIsNotARace) {
  auto r = analyze_text("2 read obj=0x10 size=8\n3 read obj=0x10 size=8\n");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(Races, DisjointBytesOfOneWordDoNotRace) {
  auto r = analyze_text("2 write obj=0x10 size=4\n3 write obj=0x14 size=4\n");
  EXPECT_TRUE(of_kind(r, kDataRace).empty()) << kinds(r);
  auto overlapping = analyze_text("2 write obj=0x10 size=4\n3 write obj=0x12 size=4\n");
  EXPECT_EQ(of_kind(overlapping, kDataRace).size(), 1u) << kinds(overlapping);
}

// Every placement of two accesses around a granule boundary (granules are 8 bytes): a race
// exactly when their bytes overlap, whether they share a granule, straddle one, or only touch.
TEST(Races, BytesRaceExactlyWhenTheyOverlap) {
  for (unsigned a = 0; a < 12; ++a) {
    for (unsigned size_a : {1u, 2u, 4u, 8u}) {
      for (unsigned b = 0; b < 12; ++b) {
        for (unsigned size_b : {1u, 4u}) {
          char text[128];
          std::snprintf(text, sizeof text, "2 write obj=0x%x size=%u\n3 write obj=0x%x size=%u\n", 0x100 + a, size_a,
                        0x100 + b, size_b);
          const bool overlap = a < b + size_b && b < a + size_a;
          auto r = analyze_text(text);
          EXPECT_EQ(of_kind(r, kDataRace).size(), overlap ? 1u : 0u) << text;
        }
      }
    }
  }
}

// A granule's shadow keeps two accesses in place and more in a heap block: five readers (the
// block), then a writer unordered with all of them, then one ordered after all (back in place).
TEST(Races, AWriteRacesWithEveryUnorderedReaderOfItsBytes) {
  std::string t;
  for (int reader = 2; reader <= 6; ++reader) {
    t += std::to_string(reader) + " read obj=0x100 size=" + (reader == 6 ? "2" : "8") + " at=r.cpp:" +
         std::to_string(reader) + "\n";
  }
  t += "7 write obj=0x104 size=4 at=r.cpp:7\n";  // bytes 4-7: reader 6 (bytes 0-1) is not touched
  for (int reader = 2; reader <= 7; ++reader) t += std::to_string(reader) + " thread_end\n";
  for (int reader = 2; reader <= 7; ++reader) t += "8 thread_join obj=" + std::to_string(reader) + "\n";
  t += "8 write obj=0x100 size=8 at=r.cpp:8\n";  // ordered after everything by the joins
  auto r = analyze_text(t);
  auto d = of_kind(r, kDataRace);
  ASSERT_EQ(d.size(), 4u) << kinds(r);
  std::vector<unsigned> reader_lines;
  for (const auto* f : d) {
    ASSERT_EQ(f->locations.size(), 2u);
    EXPECT_EQ(f->locations[1].line, 7u);
    EXPECT_EQ(f->locations[1].role, "write by thread 7");
    reader_lines.push_back(f->locations[0].line);
  }
  std::sort(reader_lines.begin(), reader_lines.end());
  EXPECT_EQ(reader_lines, (std::vector<unsigned>{2, 3, 4, 5}));
}

// Freed memory ends its bytes' history: the next owner's accesses start afresh for both views.
// Word states given back by a reported word and by a freed one are reused for other words.
TEST(Races, FreedMemoryStartsAfreshForRacesAndLocksets) {
  const std::string before =
      "2 lock_acquired obj=A seq=1\n2 write obj=0x100 size=4 at=f.cpp:1\n2 lock_release obj=A seq=2\n"
      "3 lock_acquired obj=B seq=1\n3 write obj=0x100 size=4 at=f.cpp:2\n3 lock_release obj=B seq=2\n";
  const std::string freed = "3 mem_free obj=0x9 seq=1 value=16 value2=0x100\n";
  const std::string after =
      "4 lock_acquired obj=C seq=1\n4 write obj=0x100 size=4 at=f.cpp:3\n4 lock_release obj=C seq=2\n"
      "4 write obj=0x200 size=4 at=f.cpp:4\n5 write obj=0x200 size=4 at=f.cpp:5\n"
      "5 lock_acquired obj=D seq=1\n5 write obj=0x100 size=4 at=f.cpp:6\n5 lock_release obj=D seq=2\n";
  auto kept = analyze_text(before + after);
  auto fresh = analyze_text(before + freed + after);
  const auto line_pairs = [](const std::vector<const analysis::Finding*>& findings) {
    std::vector<std::pair<unsigned, unsigned>> lines;
    for (const auto* f : findings) lines.emplace_back(f->locations[0].line, f->locations[1].line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  using Lines = std::vector<std::pair<unsigned, unsigned>>;
  // Without the free, thread 4's write races with thread 3's, and 0x100 stays reported once.
  EXPECT_EQ(line_pairs(of_kind(kept, kDataRace)), (Lines{{1, 2}, {2, 3}, {3, 6}, {4, 5}})) << kinds(kept);
  EXPECT_EQ(line_pairs(of_kind(kept, kUnprotectedWrite)), (Lines{{1, 2}, {4, 5}})) << kinds(kept);
  // With it, 0x100's new owners (lines 3 and 6, in a state given back by the reported word)
  // race and lose their common lock afresh; 0x200 is untouched by the free.
  EXPECT_EQ(line_pairs(of_kind(fresh, kDataRace)), (Lines{{1, 2}, {3, 6}, {4, 5}})) << kinds(fresh);
  EXPECT_EQ(line_pairs(of_kind(fresh, kUnprotectedWrite)), (Lines{{1, 2}, {3, 6}, {4, 5}})) << kinds(fresh);
}

TEST(RaceShadow, KeepsTwoInPlaceMoreInABlockInOrderAndComesBack) {
  using analysis::Access;
  using analysis::RaceShadow;
  const auto threads = [](const RaceShadow& s) {
    std::vector<std::uint32_t> v;
    for (const Access& a : s) v.push_back(a.thread());
    return v;
  };
  RaceShadow s;
  for (std::uint32_t t = 1; t <= 6; ++t) {
    Access a(t, 10 * t, 100 + t, t % 2, t % 2 == 0);
    a.set_mask(std::uint8_t(1u << t));
    s.add(a);
  }
  EXPECT_EQ(threads(s), (std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6}));
  const Access& fourth = s.begin()[3];
  EXPECT_EQ(fourth.clock(), 40u);
  EXPECT_EQ(fourth.site(), 104u);
  EXPECT_TRUE(fourth.write());
  EXPECT_EQ(fourth.mask(), 1u << 4);
  EXPECT_EQ(fourth.lockset(), 0u);
  s.erase_if([](const Access& a) { return a.thread() == 2 || a.thread() == 5; });
  EXPECT_EQ(threads(s), (std::vector<std::uint32_t>{1, 3, 4, 6}));
  s.erase_if([](Access& a) {
    a.set_mask(0x80);
    return a.thread() % 3 == 0;
  });
  EXPECT_EQ(threads(s), (std::vector<std::uint32_t>{1, 4}));  // in place again, in order
  EXPECT_EQ(s.begin()[1].mask(), 0x80);
  EXPECT_EQ(s.begin()[1].thread(), 4u);  // the mask shares the word with the thread
  RaceShadow moved(std::move(s));
  EXPECT_EQ(threads(moved), (std::vector<std::uint32_t>{1, 4}));
  EXPECT_EQ(s.size(), 0u);
  for (std::uint32_t t = 7; t <= 9; ++t) moved.add(Access(t, 0, 0, 0, false));
  RaceShadow assigned;
  assigned = std::move(moved);  // a block changes hands
  EXPECT_EQ(threads(assigned), (std::vector<std::uint32_t>{1, 4, 7, 8, 9}));
  assigned.erase_if([](const Access&) { return true; });
  EXPECT_EQ(assigned.size(), 0u);
  assigned.add(Access(Access::kMaxThreads - 1, 0, 0xffffffffu, 0x7fffffffu, false));  // a damaged site id too
  EXPECT_EQ(assigned.begin()->thread(), Access::kMaxThreads - 1);
  EXPECT_EQ(assigned.begin()->site(), 0xffffffffu);
  EXPECT_EQ(assigned.begin()->lockset(), 0x7fffffffu);
  EXPECT_FALSE(assigned.begin()->write());
  EXPECT_EQ(assigned.begin()->mask(), 0u);
}

TEST(Races, SameRaceThousandTimesIsOneFindingWithCount) {
  std::string t = "2 write obj=0x1000 size=4 at=r.cpp:5\n";
  for (int i = 0; i < 1000; ++i) t += "3 read obj=0x1000 size=4 at=r.cpp:9\n";
  auto r = analyze_text(t);
  auto d = of_kind(r, kDataRace);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->count, 1000u);
}

TEST(Races, DifferentLocksOnEachPathStillRaceAndSayWhichLocks) {
  auto r = analyze_text(R"(
2 lock_acquired obj=L1
2 write obj=0x1000 size=4 at=r.cpp:5
2 lock_release obj=L1
3 lock_acquired obj=L2
3 write obj=0x1000 size=4 at=r.cpp:9
3 lock_release obj=L2
)");
  auto d = of_kind(r, kDataRace);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->locations[0].locks_held, (std::vector<std::string>{"L1"}));
  EXPECT_EQ(d[0]->locations[1].locks_held, (std::vector<std::string>{"L2"}));
  EXPECT_EQ(of_kind(r, kUnprotectedWrite).size(), 1u);
}

// The locks an access holds follow releases in any order: a lock released last-in first-out
// gives back the set from before its acquisition; one released out of order does not.
TEST(Races, LocksHeldFollowReleasesInAnyOrder) {
  // Thread 4 first names the set {L1}: a wrong set id later would show its name.
  auto r = analyze_text(R"(
4 lock_acquired obj=L1
4 read obj=0x9000 size=4
4 lock_release obj=L1
2 lock_acquired obj=L1
2 lock_acquired obj=L2
2 lock_acquired obj=L3
2 lock_release obj=L3
2 write obj=0x1000 size=4 at=r.cpp:1
2 lock_release obj=L1
2 write obj=0x2000 size=4 at=r.cpp:2
2 lock_release obj=L2
2 write obj=0x3000 size=4 at=r.cpp:3
3 write obj=0x1000 size=4 at=r.cpp:11
3 write obj=0x2000 size=4 at=r.cpp:12
3 write obj=0x3000 size=4 at=r.cpp:13
)");
  auto d = of_kind(r, kDataRace);
  ASSERT_EQ(d.size(), 3u) << kinds(r);
  std::map<unsigned, std::vector<std::string>> held;
  for (const auto* f : d) held[f->locations[0].line] = f->locations[0].locks_held;
  EXPECT_EQ(held[1], (std::vector<std::string>{"L1", "L2"}));  // L3 released last-in first-out
  EXPECT_EQ(held[2], (std::vector<std::string>{"L2"}));        // L1 released out of order
  EXPECT_EQ(held[3], (std::vector<std::string>{}));            // then L2, the last one left
}

TEST(Lockset, OrderedOnlyByThisRunsLockTimingIsUnprotectedNotARace) {
  // Thread 3 happens to take M after thread 2 released it, so HB orders the writes; but neither
  // write holds M: another schedule races.
  auto r = analyze_text(handoff("2 lock_acquired obj=M seq=1\n2 lock_release obj=M seq=2",
                                "3 lock_acquired obj=M seq=3\n3 lock_release obj=M seq=4"));
  EXPECT_TRUE(of_kind(r, kDataRace).empty()) << kinds(r);
  auto u = of_kind(r, kUnprotectedWrite);
  ASSERT_EQ(u.size(), 1u) << kinds(r);
  EXPECT_EQ(u[0]->objects, (std::vector<std::string>{"x"}));
}

TEST(Lockset, OwnershipHandedOverByJoinIsNotUnprotected) {
  auto r = analyze_text(handoff("2 thread_end", "3 thread_join obj=2"));
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(Lockset, ResultsReadAfterJoinDoNotEmptyTheLockset) {
  auto r = analyze_text(R"(
1 thread_create obj=2
1 thread_create obj=3
2 thread_start obj=1
2 lock_acquired obj=M
2 write obj=0x1000 size=4
2 lock_release obj=M
2 thread_end
3 thread_start obj=1
3 lock_acquired obj=M
3 write obj=0x1000 size=4
3 lock_release obj=M
3 thread_end
1 thread_join obj=2
1 thread_join obj=3
1 read obj=0x1000 size=4
)");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(Lockset, ConsistentLockMeansNothingEvenAfterUnlockedInitialization) {
  auto r = analyze_text(R"(
1 write obj=0x1000 size=4
2 lock_acquired obj=M
2 write obj=0x1000 size=4
2 lock_release obj=M
3 lock_acquired obj=M
3 write obj=0x1000 size=4
3 lock_release obj=M
)");
  EXPECT_TRUE(of_kind(r, kUnprotectedWrite).empty()) << kinds(r);
}

}  // namespace
}  // namespace lockgraph::testing
