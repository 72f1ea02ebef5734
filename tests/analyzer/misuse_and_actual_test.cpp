// lock_misuse and deadlock_actual over hand-written traces.
#include <gtest/gtest.h>

#include "analyze_text.hpp"

namespace lockgraph::testing {
namespace {

using analysis::kDeadlockActual;
using analysis::kLockMisuse;

std::string only_message(const analysis::AnalysisResult& r, std::string_view kind) {
  auto f = of_kind(r, kind);
  EXPECT_EQ(f.size(), 1u) << kinds(r);
  return f.empty() ? "" : f[0]->message;
}

TEST(Misuse, UnlockOfUnlockedMutex) {
  auto r = analyze_text("2 lock_create obj=M\n2 lock_release obj=M at=m.cpp:3\n");
  EXPECT_EQ(only_message(r, kLockMisuse), "unlock of M, which is not locked");
  EXPECT_EQ(of_kind(r, kLockMisuse)[0]->locations[0].line, 3u);
}

TEST(Misuse, UnlockByNonOwner) {
  auto r = analyze_text("2 lock_acquired obj=M\n3 lock_release obj=M\n");
  EXPECT_EQ(only_message(r, kLockMisuse), "unlock of M by thread 3, which does not own it (held by thread 2)");
}

TEST(Misuse, DestroyWhileHeld) {
  auto r = analyze_text("2 lock_acquired obj=M\n3 lock_destroy obj=M\n");
  EXPECT_EQ(only_message(r, kLockMisuse), "M destroyed while held by thread 2");
}

TEST(Misuse, ThreadExitWhileHolding) {
  auto r = analyze_text("2 lock_acquired obj=M at=m.cpp:7\n2 thread_end\n");
  EXPECT_EQ(only_message(r, kLockMisuse), "thread 2 exited while holding M");
  EXPECT_EQ(of_kind(r, kLockMisuse)[0]->locations[0].line, 7u);
}

TEST(Misuse, SemaphoreReleasedPastMaximum) {
  auto r = analyze_text("2 sem_create obj=S value=1 value2=1\n2 sem_release obj=S seq=1 value=1 value2=2\n");
  EXPECT_EQ(only_message(r, kLockMisuse), "semaphore S released past its maximum (2 > 1)");
}

TEST(Misuse, JoinOfJoinedOrDetachedThread) {
  auto joined = analyze_text("1 thread_create obj=2\n2 thread_start obj=1\n2 thread_end\n1 thread_join obj=2\n1 thread_join obj=2\n");
  EXPECT_EQ(only_message(joined, kLockMisuse), "join of thread 2, which was already joined");
  auto detached = analyze_text("1 thread_create obj=2\n1 thread_detach obj=2\n2 thread_start obj=1\n2 thread_end\n1 thread_join obj=2\n");
  EXPECT_EQ(only_message(detached, kLockMisuse), "join of thread 2, which was already detached");
}

TEST(Misuse, CorrectUseIsClean) {
  auto r = analyze_text("2 lock_acquired obj=M\n2 lock_release obj=M\n2 thread_end\n");
  EXPECT_TRUE(r.findings.empty()) << kinds(r);
}

TEST(ActualDeadlock, ThreadsBlockedInACycleAtTheEndOfTheTrace) {
  auto r = analyze_text(R"(
2 lock_acquired obj=G at=d.cpp:9
2 lock_acquired obj=A at=d.cpp:1
3 lock_acquired obj=B at=d.cpp:2
2 lock_request obj=B at=d.cpp:3
3 lock_request obj=A at=d.cpp:4
)");
  auto d = of_kind(r, kDeadlockActual);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->message, "deadlock: thread 2 waits for B held by thread 3; thread 3 waits for A held by thread 2");
  ASSERT_EQ(d[0]->locations.size(), 4u);
  EXPECT_EQ(d[0]->locations[0].line, 1u);  // where thread 2 took A (thread 3 waits for it)
  EXPECT_EQ(d[0]->locations[0].role, "acquired A");
  // Held there: the others it holds now, not A itself; where it waits, everything it holds.
  EXPECT_EQ(d[0]->locations[0].locks_held, std::vector<std::string>{"G"});
  EXPECT_EQ(d[0]->locations[1].line, 3u);  // where thread 2 waits for B
  EXPECT_EQ(d[0]->locations[1].role, "waits for B");
  EXPECT_EQ(d[0]->locations[1].locks_held, (std::vector<std::string>{"G", "A"}));
  EXPECT_EQ(d[0]->locations[2].line, 2u);  // where thread 3 took B
  EXPECT_EQ(d[0]->locations[3].line, 4u);
}

TEST(ActualDeadlock, SelfDeadlockOnNonRecursiveMutex) {
  auto r = analyze_text("2 lock_acquired obj=M at=s.cpp:1\n2 lock_request obj=M at=s.cpp:2\n");
  auto d = of_kind(r, kDeadlockActual);
  ASSERT_EQ(d.size(), 1u) << kinds(r);
  EXPECT_EQ(d[0]->message, "self-deadlock: thread 2 locks M, a non-recursive mutex it already holds, and waits forever");
}

TEST(ActualDeadlock, RequestThatWasGrantedIsNotADeadlock) {
  auto r = analyze_text("2 lock_acquired obj=A\n3 lock_request obj=A\n2 lock_release obj=A\n3 lock_acquired obj=A flags=contended\n");
  EXPECT_TRUE(of_kind(r, kDeadlockActual).empty()) << kinds(r);
}

TEST(ActualDeadlock, WatchdogStallNamesWhatEachThreadWaitsFor) {
  // extra: per thread (tid, object, owner | kind << 32, site); kind 6 = future of a pool, 5 = join
  // The pool's id inside `extra` is the id the parser gives the word P.
  std::istringstream in("1 pool_create obj=P name=pool\n");
  analysis::TextTrace t;
  analysis::Problem err;
  ASSERT_TRUE(analysis::parse_text_trace(in, "t", &t, &err));
  std::uint64_t pool = t.object_names.at("P");
  std::string text = "1 pool_create obj=P name=pool\n0 deadlock flags=2 value=2 extra=1,2," +
                     std::to_string(2ull | (5ull << 32)) + ",0,2," + std::to_string(pool) + "," +
                     std::to_string(6ull << 32) + ",0\n";
  auto stall = analyze_text(text);
  auto d = of_kind(stall, kDeadlockActual);
  ASSERT_EQ(d.size(), 1u) << kinds(stall);
  EXPECT_EQ(d[0]->message,
            "all threads blocked for good (no thread left to wake the others): thread 1 waits for thread 2; "
            "thread 2 waits for task result of pool pool");
}

}  // namespace
}  // namespace lockgraph::testing
