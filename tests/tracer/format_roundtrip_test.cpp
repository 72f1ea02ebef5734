// Every record kind goes through the real writer (the runtime's emit path) and comes back out of
// the real reader with every field intact.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "lockgraph/runtime.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using analysis::Event;
using format::Kind;

const Kind kAllEventKinds[] = {
    Kind::kProcessFork, Kind::kVarName, Kind::kThreadCreate, Kind::kThreadJoin, Kind::kThreadDetach,
    Kind::kLockCreate, Kind::kLockDestroy, Kind::kLockRequest, Kind::kLockAcquired, Kind::kLockFailed,
    Kind::kLockRelease, Kind::kSemCreate, Kind::kSemDestroy, Kind::kSemRequest, Kind::kSemAcquired,
    Kind::kSemFailed, Kind::kSemRelease, Kind::kEventCreate, Kind::kEventSet, Kind::kEventClear,
    Kind::kEventWaitBegin, Kind::kEventWaitEnd, Kind::kCondCreate, Kind::kCondWaitBegin, Kind::kCondWaitEnd,
    Kind::kCondNotify, Kind::kBarrierCreate, Kind::kBarrierArrive, Kind::kBarrierDepart, Kind::kPoolCreate,
    Kind::kPoolSubmit, Kind::kPoolTaskStart, Kind::kPoolTaskEnd, Kind::kPoolResult, Kind::kPoolCallback,
    Kind::kPoolShutdown, Kind::kPoolShutdownDone, Kind::kReadRange, Kind::kWriteRange, Kind::kAtomic,
    Kind::kFence, Kind::kHbRelease, Kind::kHbAcquire, Kind::kDeadlock,
};

std::uint64_t field(int kind_index, int field_index) { return 1000u * std::uint64_t(kind_index + 1) + std::uint64_t(field_index); }

TEST(FormatRoundTrip, EveryKindKeepsEveryField) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    rt::ThreadState* t = rt::self();
    source_site here{"roundtrip.cpp", "body", 42};
    std::uint32_t site = rt::site_id(t, here);
    int i = 0;
    for (Kind k : kAllEventKinds) {
      std::uint64_t payload[8];
      for (int f = 0; f < 8; ++f) payload[f] = field(i, f);
      rt::emit(t, format::make_word0(k, std::uint8_t(i + 1), 8 * 9, site), payload, 8);
      ++i;
    }
    rt::record_access(reinterpret_cast<void*>(0x1000), 8, true, here);
    rt::record_access(reinterpret_cast<void*>(0x2000), 2, false, here);
    return 0;
  });
  ASSERT_TRUE(child.exited());
  ASSERT_EQ(child.exit_code(), 0);
  std::vector<analysis::Problem> problems;
  auto events = read_events(child.trace, &problems);
  EXPECT_TRUE(problems.empty()) << problems.front().message();

  analysis::Problem err;
  auto file = analysis::TraceFile::open(child.trace, &err);
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->has_trailer());
  std::size_t matched = 0;
  for (const Event& e : events) {
    if (e.flags == 0 || e.kind == Kind::kRead || e.kind == Kind::kWrite) continue;
    int i = e.flags - 1;
    if (i < 0 || i >= int(std::size(kAllEventKinds)) || e.kind != kAllEventKinds[i]) continue;
    ++matched;
    EXPECT_EQ(e.object, field(i, 0));
    EXPECT_EQ(e.seq, field(i, 1));
    EXPECT_EQ(e.time, field(i, 2));
    EXPECT_EQ(e.value, field(i, 3));
    EXPECT_EQ(e.value2, field(i, 4));
    EXPECT_EQ(e.value3, field(i, 5));
    EXPECT_EQ(e.extra_words, 2u);
    const analysis::Site* s = file->site(e.site);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->file, "roundtrip.cpp");
    EXPECT_EQ(s->line, 42u);
    EXPECT_EQ(s->function, "body");
  }
  EXPECT_EQ(matched, std::size(kAllEventKinds));

  int writes = 0, reads = 0;
  for (const Event& e : events) {
    if (e.kind == Kind::kWrite && e.object == 0x1000) {
      ++writes;
      EXPECT_EQ(e.access_size(), 8u);
    }
    if (e.kind == Kind::kRead && e.object == 0x2000) {
      ++reads;
      EXPECT_EQ(e.access_size(), 2u);
    }
  }
  EXPECT_EQ(writes, 1);
  EXPECT_EQ(reads, 1);
}

TEST(FormatRoundTrip, RepeatedAccessWithoutSynchronizationIsFilteredAtRecordTime) {
  TempDir dir;
  static int x;
  auto child = run_traced_child(dir, [] {
    for (int i = 0; i < 100; ++i) rt::record_access(&x, 4, true, source_site::current());
    rt::ThreadState* t = rt::self();
    rt::emit_sync(t, Kind::kHbRelease, 0, 0, 1, 1);  // any synchronization starts a new stretch
    for (int i = 0; i < 100; ++i) rt::record_access(&x, 4, true, source_site::current());
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  int writes = 0;
  for (const Event& e : read_events(child.trace)) writes += e.kind == Kind::kWrite ? 1 : 0;
  EXPECT_EQ(writes, 2);
}

// Plain accesses are stored in access runs, 8 bytes each or 4 (a pair word's half, when near the
// access before); every one comes back with its address, size, kind and site, whether it filled a
// pair's half, extended a run with a full word, started a run (after a synchronization, a site far
// from the run's, a new chunk) or did not fit a run word (odd size, address past 2^48).
TEST(FormatRoundTrip, AccessRunsKeepEveryAccess) {
  TempDir dir;
  struct Expected {
    std::uint64_t address;
    std::uint32_t size;
    bool write;
    unsigned line;
  };
  static std::vector<Expected> expected;  // built the same way in the child and here
  auto script = [](bool record) {
    expected.clear();
    rt::ThreadState* t = record ? rt::self() : nullptr;
    auto access = [&](std::uint64_t address, std::uint32_t size, bool write, unsigned line) {
      expected.push_back({address, size, write, line});
      if (!record) return;
      source_site where{"runs.cpp", "body", line};
      rt::emit_access(t, address, size, write, rt::site_id(t, where));
    };
    const std::uint32_t sizes[] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 40; ++i) access(0x10000 + 8 * i, sizes[i % 5], i % 3 == 0, 100 + unsigned(i % 7));
    if (record) rt::emit_sync(t, Kind::kHbRelease, 0, 0, 1, 1);  // closes the run
    access(0x20000, 3, true, 200);                  // odd size: a record of its own
    access(0x20008, 4, false, 201);
    access(std::uint64_t(1) << 50, 8, true, 202);   // past 2^48: a record of its own
    access(0x30000, 8, false, 203);
    // Enough accesses to fill several chunks (2,000 words each): runs restart in each new chunk.
    for (int i = 0; i < 5000; ++i) access(0x40000 + 4 * std::uint64_t(i), 4, i % 2 == 1, 300 + unsigned(i % 3));
    // Near and far accesses mixed at random (a fixed seed): halves, lone halves before a full
    // word, negative deltas, deltas at the limit, sizes a half cannot hold.
    std::uint64_t x = 88172645463325252ull, address = 0x7f0000000000ull;
    for (int i = 0; i < 3000; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const std::uint64_t choice = x % 8;
      if (choice < 4) address += std::uint64_t(std::int64_t(x >> 40 & 0xffff) - 0x8000);  // near
      else if (choice < 5) address += (std::uint64_t(1) << 21) - 1;                      // a half's largest step
      else if (choice < 6) address -= std::uint64_t(1) << 21;                            // its largest step back
      else address = 0x100000000ull + (x >> 20);                                         // far
      access(address & format::kRunAddressMask, sizes[(x >> 8) % 5], (x >> 12) & 1, 400 + unsigned((x >> 16) % 24));
    }
  };
  auto child = run_traced_child(dir, [&] {
    script(true);
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  script(false);
  std::vector<analysis::Problem> problems;
  auto events = read_events(child.trace, &problems);
  EXPECT_TRUE(problems.empty()) << problems.front().message();
  analysis::Problem err;
  auto file = analysis::TraceFile::open(child.trace, &err);
  ASSERT_TRUE(file);
  std::vector<const Event*> accesses;
  for (const Event& e : events) {
    if (e.kind == Kind::kRead || e.kind == Kind::kWrite || e.kind == Kind::kReadRange || e.kind == Kind::kWriteRange) {
      accesses.push_back(&e);
    }
  }
  ASSERT_EQ(accesses.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Event& e = *accesses[i];
    EXPECT_EQ(e.object, expected[i].address) << i;
    EXPECT_EQ(e.access_size(), expected[i].size) << i;
    EXPECT_EQ(e.kind == Kind::kWrite || e.kind == Kind::kWriteRange, expected[i].write) << i;
    const analysis::Site* site = file->site(e.site);
    ASSERT_NE(site, nullptr) << i;
    EXPECT_EQ(site->file, "runs.cpp");
    EXPECT_EQ(site->line, expected[i].line) << i;
  }
  // On disk: a handful of runs hold nearly all of them; the sequential loop's accesses two to a word.
  std::size_t runs = 0, full_words = 0, halves = 0;
  const std::string bytes = read_file(child.trace);
  for (const auto& [offset, w0] : raw_records(child.trace)) {
    if (format::word0_kind(w0) != Kind::kAccessRun) continue;
    ++runs;
    for (std::uint64_t i = 1; i < format::word0_length(w0) / 8; ++i) {
      std::uint64_t w = 0;
      std::memcpy(&w, bytes.data() + offset + 8 * i, 8);
      ASSERT_NE(w, 0u) << "no process was killed: no torn append";
      if (!format::is_pair_word(w)) {
        ++full_words;
        continue;
      }
      ASSERT_NE(format::pair_half(w, 0) & 1, 0u);
      halves += 1 + (format::pair_half(w, 1) & 1);
    }
  }
  EXPECT_EQ(full_words + halves, expected.size() - 2);  // all but the odd size and the high address
  EXPECT_GE(halves, 5000u);  // the 5,000 steps of 4 bytes, and some of the random ones
  EXPECT_LE(runs, 80u);  // a site's first use writes its definition first, which closes a run
}

TEST(FormatRoundTrip, PairHalfLimits) {
  std::uint64_t h = 0;
  const std::uint64_t base = 0x10000000;
  const std::uint64_t step = std::uint64_t(1) << 21;  // a half's delta is a signed 22-bit number
  EXPECT_FALSE(format::pair_access_half(base + step, base, 4, false, 5, 5, &h));
  EXPECT_FALSE(format::pair_access_half(base - step - 1, base, 4, false, 5, 5, &h));
  EXPECT_FALSE(format::pair_access_half(base + 8, base, 16, false, 5, 5, &h));  // 16 bytes: full word
  EXPECT_FALSE(format::pair_access_half(base + 8, base, 3, false, 5, 5, &h));
  EXPECT_FALSE(format::pair_access_half(base + 8, base, 4, false, 5 + 16, 5, &h));  // site delta: -16..15
  EXPECT_FALSE(format::pair_access_half(base + 8, base, 4, false, 100, 117, &h));
  ASSERT_TRUE(format::pair_access_half(base + step - 1, base, 8, true, 5 + 15, 5, &h));
  format::RunAccess a = format::decode_pair_half(h, base, 5);
  EXPECT_EQ(a.address, base + step - 1);
  EXPECT_EQ(a.size, 8u);
  EXPECT_TRUE(a.write);
  EXPECT_EQ(a.site, 20u);
  ASSERT_TRUE(format::pair_access_half(base - step, base, 1, false, 101, 117, &h));
  EXPECT_LT(h, std::uint64_t(1) << 31);
  EXPECT_EQ(h & 1, 1u);  // present: a half never reads as the missing second half
  a = format::decode_pair_half(h, base, 117);
  EXPECT_EQ(a.address, base - step);
  EXPECT_EQ(a.size, 1u);
  EXPECT_FALSE(a.write);
  EXPECT_EQ(a.site, 101u);
  // The two halves of one word come apart again, and the word never looks like a full one.
  std::uint64_t h2 = 0;
  ASSERT_TRUE(format::pair_access_half(base - step + 4, base - step, 2, true, 117, 117, &h2));
  const std::uint64_t word = h | (h2 << 31);
  EXPECT_TRUE(format::is_pair_word(word));
  EXPECT_EQ(format::pair_half(word, 0), h);
  EXPECT_EQ(format::pair_half(word, 1), h2);
}

TEST(FormatRoundTrip, RunAccessWordLimits) {
  std::uint64_t w = 0;
  EXPECT_FALSE(format::run_access_word(0x1000, 3, false, 5, 5, &w));                       // odd size
  EXPECT_FALSE(format::run_access_word(0x1000, 32, false, 5, 5, &w));                      // too large
  EXPECT_FALSE(format::run_access_word(format::kRunAddressMask + 1, 8, false, 5, 5, &w));  // past 2^48
  EXPECT_FALSE(format::run_access_word(0x1000, 8, false, 5 + 1024, 5, &w));                // site too far
  EXPECT_FALSE(format::run_access_word(0x1000, 8, false, 3900, 5000, &w));
  ASSERT_TRUE(format::run_access_word(format::kRunAddressMask, 16, true, 5000 - 1024, 5000, &w));
  format::RunAccess a = format::decode_run_access(w, 5000);
  EXPECT_EQ(a.address, format::kRunAddressMask);
  EXPECT_EQ(a.size, 16u);
  EXPECT_TRUE(a.write);
  EXPECT_EQ(a.site, 5000u - 1024u);
  ASSERT_TRUE(format::run_access_word(0, 1, false, 7 + 1023, 7, &w));
  EXPECT_NE(w, 0u);  // never 0: a zero word in a run is a torn append
  a = format::decode_run_access(w, 7);
  EXPECT_EQ(a.address, 0u);
  EXPECT_EQ(a.size, 1u);
  EXPECT_FALSE(a.write);
  EXPECT_EQ(a.site, 7u + 1023u);
}

TEST(FormatRoundTrip, TraceFileIsPrivateAndNamedByPid) {
  TempDir dir;
  auto child = run_traced_child(dir, [] { return 0; });
  ASSERT_FALSE(child.trace.empty());
  struct stat st {};
  ASSERT_EQ(stat(child.trace.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(FormatRoundTrip, PlantedSymlinkIsNeverFollowed) {
  TempDir dir;
  TempDir elsewhere;
  std::string victim = elsewhere.path() + "/victim";
  pid_t pid = fork();
  if (pid == 0) {
    // A pid survives exec: plant a link under the exact name this process's trace would get,
    // then exec a traced program (this test binary, doing nothing) with its trace dir there.
    std::string link = dir.path() + "/lockgraph-" + std::to_string(getpid()) + ".trace";
    if (symlink(victim.c_str(), link.c_str()) != 0) _exit(3);
    setenv("LOCKGRAPH_TRACE_DIR", dir.path().c_str(), 1);
    unlink(lockgraph::rt::trace_path());  // the fork handler's file for this child: exec ends it unused
    execl("/proc/self/exe", "lockgraph_tracer_tests", "--gtest_list_tests", "--keep-own-trace", static_cast<char*>(nullptr));
    _exit(4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(access(victim.c_str(), F_OK), -1) << "the runtime wrote through a planted symlink";
  std::string taken = dir.path() + "/lockgraph-" + std::to_string(pid) + "-1.trace";
  struct stat st {};
  ASSERT_EQ(lstat(taken.c_str(), &st), 0) << "expected the next free name to be used";
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

}  // namespace
}  // namespace lockgraph::testing
