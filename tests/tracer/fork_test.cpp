// fork(): parent and child write separate files; the child's header names the parent's fork
// record, which is in the forking thread's stream (the happens-before edge parent -> child).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>
#include <unistd.h>

#include "lockgraph/mutex.hpp"
#include "lockgraph/analyzer/trace_set.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using format::Kind;

TEST(Fork, ParentAndChildFilesWithForkEdge) {
  TempDir dir;
  auto parent = run_traced_child(dir, [] {
    lockgraph::mutex m("before-fork");
    m.lock();
    m.unlock();
    pid_t pid = fork();
    if (pid == 0) {
      lockgraph::mutex c("in-child");
      c.lock();
      c.unlock();
      std::exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
  });
  ASSERT_EQ(parent.exit_code(), 0);
  auto files = dir.traces();
  ASSERT_EQ(files.size(), 2u);

  analysis::Problem err;
  // (The "parent" is itself a forked child of the test process, so both files carry a fork id;
  // the grandchild is the one whose parent pid is the other's pid.)
  auto first = analysis::TraceFile::open(files[0], &err);
  ASSERT_TRUE(first) << err.message();
  auto second = analysis::TraceFile::open(files[1], &err);
  ASSERT_TRUE(second) << err.message();
  bool first_is_parent = second->header().ppid == first->header().pid;
  std::unique_ptr<analysis::TraceFile> p = first_is_parent ? std::move(first) : std::move(second);
  std::unique_ptr<analysis::TraceFile> c = first_is_parent ? std::move(second) : std::move(first);
  EXPECT_EQ(c->header().ppid, p->header().pid);
  EXPECT_EQ(c->header().fork_id, 1u);
  EXPECT_TRUE(c->has_trailer());
  EXPECT_TRUE(p->has_trailer());
  // The parent's fork record carries the same fork id.
  int forks = 0;
  for (const auto& e : read_events(p->path())) {
    if (e.kind == Kind::kProcessFork) {
      ++forks;
      EXPECT_EQ(e.seq, c->header().fork_id);
    }
  }
  EXPECT_EQ(forks, 1);
  // The child's records: its own lock, none of the parent's records.
  int child_locks = 0;
  for (const auto& e : read_events(c->path())) child_locks += e.kind == Kind::kLockCreate ? 1 : 0;
  EXPECT_EQ(child_locks, 1);

  // Replay puts every child record after the parent's fork record.
  auto set = analysis::TraceSet::open({dir.path()}, &err);
  ASSERT_TRUE(set) << err.message();
  std::uint32_t child_index = set->processes()[0].pid == c->header().pid ? 0 : 1;
  bool fork_seen = false;
  bool child_before_fork = false;
  set->replay([&](const analysis::Event& e) {
    if (e.kind == Kind::kProcessFork) fork_seen = true;
    if (e.process == child_index && !fork_seen) child_before_fork = true;
  });
  EXPECT_TRUE(fork_seen);
  EXPECT_FALSE(child_before_fork);
}

// Lock records are packed into 16 bytes when the lock was created by the writing process; a lock
// a fork()ed child inherited carries its parent's pid in its id and keeps the full record. Either
// way the reader returns the exact id and sequence.
TEST(Fork, LockRecordsArePackedOnlyForTheProcesssOwnLocks) {
  TempDir dir;
  struct Ids {
    std::uint64_t inherited, own;
  };
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  auto parent = run_traced_child(dir, [&] {
    lockgraph::mutex inherited("inherited");
    inherited.lock();
    inherited.unlock();
    pid_t pid = fork();
    if (pid == 0) {
      lockgraph::mutex own("own");
      for (int i = 0; i < 3; ++i) {
        own.lock();
        inherited.lock();
        inherited.unlock();
        own.unlock();
      }
      Ids ids{inherited.trace_id(), own.trace_id()};
      std::exit(write(pipe_fds[1], &ids, sizeof ids) == sizeof ids ? 0 : 3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
  });
  ASSERT_EQ(parent.exit_code(), 0);
  Ids ids{};
  ASSERT_EQ(read(pipe_fds[0], &ids, sizeof ids), ssize_t(sizeof ids));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  ASSERT_NE(ids.inherited >> 40, ids.own >> 40);  // two processes' ids

  std::string child_trace;
  for (const std::string& f : dir.traces()) {
    analysis::Problem err;
    auto file = analysis::TraceFile::open(f, &err);
    ASSERT_TRUE(file) << err.message();
    if (file->header().pid == (ids.own >> 40)) child_trace = f;
  }
  ASSERT_FALSE(child_trace.empty());
  // The child's lock records as written, in file order (one thread, one chunk: its order), and
  // as read back, in the same order.
  std::vector<Kind> written;
  for (const auto& [offset, w0] : raw_records(child_trace)) {
    const Kind k = format::word0_kind(w0);
    if (k == Kind::kLockAcquired || k == Kind::kLockRelease || k == Kind::kLockAcquiredPacked ||
        k == Kind::kLockReleasePacked) {
      written.push_back(k);
    }
  }
  std::map<std::uint64_t, std::vector<std::uint64_t>> seqs;
  int packed_seen = 0, full_seen = 0;
  std::size_t next = 0;
  for (const auto& e : read_events(child_trace)) {
    if (e.kind != Kind::kLockAcquired && e.kind != Kind::kLockRelease) continue;
    ASSERT_LT(next, written.size());
    const Kind on_disk = written[next++];
    bool packed = on_disk == Kind::kLockAcquiredPacked || on_disk == Kind::kLockReleasePacked;
    EXPECT_EQ(e.kind, packed ? (on_disk == Kind::kLockAcquiredPacked ? Kind::kLockAcquired : Kind::kLockRelease)
                             : on_disk);
    if (e.object == ids.inherited) {
      EXPECT_FALSE(packed);
      ++full_seen;
    } else {
      ASSERT_EQ(e.object, ids.own);
      if (e.time == 0) {
        EXPECT_TRUE(packed);  // a timed hold keeps its time in the full record
      }
      packed_seen += packed ? 1 : 0;
    }
    seqs[e.object].push_back(e.seq);
  }
  EXPECT_EQ(next, written.size());
  EXPECT_EQ(full_seen, 6);
  EXPECT_GE(packed_seen, 4);
  // own: created in the child, sequence from 1; inherited: continues after the parent's 2.
  EXPECT_EQ(seqs[ids.own], (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(seqs[ids.inherited], (std::vector<std::uint64_t>{3, 4, 5, 6, 7, 8}));
}

TEST(FormatPacking, OnlyThisProcesssIdsWithSmallSequencesArePacked) {
  const std::uint64_t pid = 4242;
  const std::uint32_t high = std::uint32_t((pid << 40) >> 32);
  const std::uint64_t id = (pid << 40) | 0x1234;
  EXPECT_TRUE(format::lock_record_packable(id, 0xffffffffu, high));
  EXPECT_FALSE(format::lock_record_packable(id, 1ull << 32, high));                      // sequence too large
  EXPECT_FALSE(format::lock_record_packable((4243ull << 40) | 0x1234, 1, high));         // another process's lock
  EXPECT_FALSE(format::lock_record_packable(id | (1ull << 32), 1, high));                // counter past 2^32
  EXPECT_FALSE(format::lock_record_packable(id | format::kProcessSharedObject, 1, high)); // shared by processes
  EXPECT_FALSE(format::lock_record_packable(id, 1, 0));                                  // trace not open yet
  const std::uint64_t word = format::pack_lock_word(id, 0xfffffffeu);
  EXPECT_EQ(format::packed_lock_id(word, pid), id);
  EXPECT_EQ(format::packed_lock_seq(word), 0xfffffffeu);
}

}  // namespace
}  // namespace lockgraph::testing
