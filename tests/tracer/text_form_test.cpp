// The text form: what `lockgraph dump` prints parses back to the same events.
#include <gtest/gtest.h>

#include <sstream>

#include "lockgraph/analyzer/text_form.hpp"
#include "lockgraph/analyzer/trace_set.hpp"
#include "lockgraph/lockgraph.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using analysis::Event;
using format::Kind;

TEST(TextForm, ParsesHandWrittenTrace) {
  std::istringstream in(R"(# two threads, one lock
process 0 pid=100 ppid=1 program=/bin/demo
0:1 lock_create obj=A type=recursive_mutex at=demo.cpp:3
0:1 lock_acquired obj=A seq=1 flags=try,contended at="my file.cpp:12" fn=main time=55
0:2 write obj=0x1000 size=4 at=demo.cpp:20
0:2 deadlock value=1 extra=2,3,4,5
)");
  analysis::TextTrace t;
  analysis::Problem err;
  ASSERT_TRUE(analysis::parse_text_trace(in, "mem", &t, &err)) << err.message();
  ASSERT_EQ(t.events.size(), 4u);
  EXPECT_EQ(t.processes[0].pid, 100u);
  const Event& create = t.events[0];
  EXPECT_EQ(create.kind, Kind::kLockCreate);
  EXPECT_EQ(create.flags, std::uint8_t(format::LockType::kRecursiveMutex));
  EXPECT_EQ(t.strings.at(std::uint32_t(create.value)), "A");  // name defaults to the object word
  const Event& acq = t.events[1];
  EXPECT_EQ(acq.object, create.object);
  EXPECT_EQ(acq.flags, format::kAcqTry | format::kAcqContended);
  EXPECT_EQ(acq.time, 55u);
  EXPECT_EQ(t.sites.at(acq.site).file, "my file.cpp");
  EXPECT_EQ(t.sites.at(acq.site).line, 12u);
  EXPECT_EQ(t.events[2].access_size(), 4u);
  EXPECT_EQ(t.events[2].object, 0x1000u);
  ASSERT_EQ(t.events[3].extra_words, 4u);
  EXPECT_EQ(t.events[3].extra[3], 5u);
}

TEST(TextForm, MalformedLinesNameTheLine) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {
      {"0:1 bogus_kind obj=1\n", "t.txt:1: unknown event kind 'bogus_kind'"},
      {"\n0:1 lock_acquired seq=x\n", "t.txt:2: bad number in 'seq=x'"},
      {"0:1 lock_acquired what\n", "t.txt:1: expected key=value, got 'what'"},
      {"0:1 read obj=1 size=300\n", "t.txt:1: size of read/write must be 1..255 (use read_range)"},
      {"x:y lock_acquired\n", "t.txt:1: expected PROCESS:THREAD or THREAD, got 'x:y'"},
      {"0:1 lock_acquired at=\"open\n", "t.txt:1: unterminated quote"},
      // From the fuzzer: a huge process index made the reader allocate an entry for every index.
      {"333333333333330:1 thread_start\n", "t.txt:1: process index 333333333333330 is out of range (at most 65536 processes)"},
      {"0:4294967296 thread_start\n", "t.txt:1: thread id 4294967296 is out of range (at most 2^32 - 1)"},
  };
  for (const auto& c : cases) {
    std::istringstream in(c.text);
    analysis::TextTrace t;
    analysis::Problem err;
    EXPECT_FALSE(analysis::parse_text_trace(in, "t.txt", &t, &err)) << c.text;
    EXPECT_EQ(err.message(), c.reason);
  }
}

TEST(TextForm, DumpOfARealTraceParsesBackToTheSameEvents) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    lockgraph::mutex m("M");
    lockgraph::shared<int> x{0, "x"};
    lockgraph::thread t([&] {
      std::lock_guard<lockgraph::mutex> g(m);
      x.set(x.get() + 1);
    });
    t.join();
    lockgraph::event e("e");
    e.set();
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  analysis::Problem err;
  auto set = analysis::TraceSet::open({child.trace}, &err);
  ASSERT_TRUE(set) << err.message();
  std::vector<Event> original;
  std::ostringstream text;
  auto strings = [&](std::uint32_t p, std::uint32_t id) { return set->string(p, id); };
  auto sites = [&](std::uint32_t p, std::uint32_t id) { return set->site(p, id); };
  set->replay([&](const Event& e) {
    original.push_back(e);
    text << analysis::format_event(e, strings, sites) << "\n";
  });
  std::istringstream in(text.str());
  analysis::TextTrace parsed;
  ASSERT_TRUE(analysis::parse_text_trace(in, "dump", &parsed, &err)) << err.message();
  ASSERT_EQ(parsed.events.size(), original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    const Event& a = original[i];
    const Event& b = parsed.events[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.thread, b.thread) << i;
    EXPECT_EQ(a.object, b.object) << i;
    EXPECT_EQ(a.seq, b.seq) << i;
    EXPECT_EQ(a.time, b.time) << i;
    EXPECT_EQ(a.flags, b.flags) << i;
    auto name = analysis::name_field(a.kind);
    if (name != nullptr && a.*name != 0) {
      EXPECT_EQ(set->string(0, std::uint32_t(a.*name)), parsed.strings.at(std::uint32_t(b.*name))) << i;
    }
    if (a.site != 0 && !set->site(0, a.site)->file.empty()) {
      EXPECT_EQ(set->site(0, a.site)->location(), parsed.sites.at(b.site).location()) << i;
    }
  }
}

}  // namespace
}  // namespace lockgraph::testing
