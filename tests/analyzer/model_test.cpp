// The Model's interned held sets: after every event, a thread's held-set id names exactly the
// locks it holds (sorted, each once), through re-entry, a double acquisition and out-of-order
// releases; equal sets share one id across threads. And which source files a report may name
// sites and callers in.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "analyze_text.hpp"
#include "lockgraph/analyzer/model.hpp"
#include "lockgraph/analyzer/symbolize.hpp"

namespace lockgraph::testing {
namespace {

TEST(Model, HeldSetIdFollowsEveryAcquisitionAndRelease) {
  const char* trace = R"(
2 lock_create obj=R type=recursive_mutex
2 lock_acquired obj=A
2 lock_acquired obj=B
2 lock_acquired obj=C
2 lock_release obj=B
2 lock_acquired obj=B
2 lock_acquired obj=R
2 lock_acquired obj=R flags=recursive
2 lock_release obj=R flags=recursive
2 lock_release obj=A
2 lock_acquired obj=C
2 lock_release obj=C
2 lock_release obj=R
2 lock_release obj=C
2 lock_release obj=B
3 lock_acquired obj=C
3 lock_acquired obj=B
3 lock_release obj=C
3 lock_release obj=B
)";
  std::size_t checked = 0;
  std::map<std::set<std::string>, std::uint32_t> id_of;  // by lock names: the same set, the same id
  std::set<std::uint32_t> sizes;
  analyze_text(trace, [&](const analysis::Event&, analysis::Model& m) {
    const std::uint32_t ti = m.current_thread();
    std::vector<std::uint32_t> want;
    for (const analysis::HeldLock& h : m.thread(ti).held) want.push_back(h.lock);
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    const std::uint32_t id = m.held_set_id(ti);
    EXPECT_EQ(m.held_set(id), want) << "event " << checked;
    std::set<std::string> names;
    for (std::uint32_t l : want) names.insert(m.lock(l).name);
    auto [it, fresh] = id_of.emplace(names, id);
    EXPECT_EQ(it->second, id) << "two ids for one set, event " << checked;
    sizes.insert(std::uint32_t(want.size()));
    ++checked;
  });
  EXPECT_EQ(checked, 19u);
  EXPECT_EQ(sizes, (std::set<std::uint32_t>{0, 1, 2, 3, 4}));  // the walk reached every depth
  EXPECT_EQ(id_of.at({}), 0u);                                 // no locks: id 0
}

TEST(Model, ReportsNameOnlyTheProgramsOwnSourceFiles) {
  using analysis::is_programs_own_source;
  EXPECT_TRUE(is_programs_own_source("/home/dev/app/src/worker.cpp"));
  // Built inside /usr (a container's /usr/src/app): still the program's own code.
  EXPECT_TRUE(is_programs_own_source("/usr/src/app/main.cpp"));
  EXPECT_TRUE(is_programs_own_source("/usr/local/src/service/queue.hpp"));
  EXPECT_FALSE(is_programs_own_source("/usr/include/c++/12/bits/unique_ptr.h"));
  EXPECT_FALSE(is_programs_own_source("/usr/lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/mutex"));
  // lockgraph's own headers, installed or in a source tree: the wrappers' inlined code.
  EXPECT_FALSE(is_programs_own_source("/usr/local/include/lockgraph/mutex.hpp"));
  EXPECT_FALSE(is_programs_own_source("/work/lockgraph/tracer/include/lockgraph/detail/lock_core.hpp"));
}

}  // namespace
}  // namespace lockgraph::testing
