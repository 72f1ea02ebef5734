// fork(): parent and child write separate files; the child's header names the parent's fork
// record, which is in the forking thread's stream (the happens-before edge parent -> child).
#include <gtest/gtest.h>
#include <sys/wait.h>
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

}  // namespace
}  // namespace lockgraph::testing
