// Predictive race analyses (hb, shb, wcp) over hand-written STD traces with known answers, the
// STD reader's errors and round trip, and the generator's guarantees checked by the analyses.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>
#include <sstream>

#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/std_generator.hpp"
#include "std_test_support.hpp"

namespace lockgraph::analysis {
namespace {

using testing::parse_ok;
using testing::races;
using testing::Set;

// Thread 1 writes x, then holds L briefly; thread 2 later holds L briefly, then writes x. The
// critical sections share nothing, so they can be swapped: the writes are a real race that
// happens-before (and ThreadSanitizer) cannot see.
const char* kHiddenBehindLock =
    "T1|w(x)|10\n"
    "T1|acq(L)|11\n"
    "T1|rel(L)|12\n"
    "T2|acq(L)|20\n"
    "T2|rel(L)|21\n"
    "T2|w(x)|22\n";

TEST(Predictive, RaceHiddenBehindAnUnrelatedCriticalSection) {
  EXPECT_EQ(races(kHiddenBehindLock, RaceAnalysis::kHb), Set{});
  EXPECT_EQ(races(kHiddenBehindLock, RaceAnalysis::kShb), Set{});
  EXPECT_EQ(races(kHiddenBehindLock, RaceAnalysis::kWcp), Set{"x:10-22"});
  EXPECT_EQ(races(kHiddenBehindLock, RaceAnalysis::kSyncp), Set{"x:10-22"});
}

TEST(Predictive, ConflictingCriticalSectionsStayOrdered) {
  const char* trace =
      "T1|acq(L)|10\n"
      "T1|w(x)|11\n"
      "T1|rel(L)|12\n"
      "T2|acq(L)|20\n"
      "T2|r(x)|21\n"
      "T2|rel(L)|22\n"
      "T2|w(y)|23\n"
      "T1|r(y)|13\n";  // y: T2's write is after its critical section, T1's read has no lock at all
  EXPECT_EQ(races(trace, RaceAnalysis::kHb), Set{"y:23-13"});
  EXPECT_EQ(races(trace, RaceAnalysis::kShb), Set{"y:23-13"});
  EXPECT_EQ(races(trace, RaceAnalysis::kWcp), Set{"y:23-13"});  // x is ordered by rule (a)
}

TEST(Predictive, RuleAJoinsEveryEarlierReleaseWhenTwoThreadsHeldTheLockAtOnce) {
  // Malformed: T1 and T2 hold L at the same time, so T2's release does not follow T1's in HB and
  // the latest release's clock is not the join of both. T3's write inside L is rule-(a) ordered
  // after both reads (HB, which follows the last release only, misses T1's). Keeping only the
  // latest reading release per (variable, lock) would report x:11-31 under wcp.
  const char* trace =
      "T1|acq(L)|10\n"
      "T2|acq(L)|20\n"
      "T1|r(x)|11\n"
      "T1|rel(L)|12\n"
      "T2|r(x)|21\n"
      "T2|rel(L)|22\n"
      "T3|acq(L)|30\n"
      "T3|w(x)|31\n"
      "T3|rel(L)|32\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kHb), Set{"x:11-31"});
  EXPECT_EQ(races(trace, RaceAnalysis::kWcp), Set{});
}

TEST(Predictive, ReleaseOrderingByRuleC) {
  // T1's critical section on M contains one on L that conflicts with T2's (on x): rule (a)
  // orders T1's release of L before T2's read of x, so T1's acquire of M is WCP-before T2's
  // release of M, and rule (c) orders T1's release of M before T2's. T1 wrote w inside M, T2
  // reads it after its own M section: ordered. Without rule (c) WCP would report w.
  const char* trace =
      "T1|acq(M)|1\n"
      "T1|acq(L)|2\n"
      "T1|w(x)|3\n"
      "T1|rel(L)|4\n"
      "T1|w(w)|5\n"
      "T1|rel(M)|6\n"
      "T2|acq(L)|10\n"
      "T2|r(x)|11\n"
      "T2|rel(L)|12\n"
      "T2|acq(M)|13\n"
      "T2|rel(M)|14\n"
      "T2|r(w)|15\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kHb), Set{});
  EXPECT_EQ(races(trace, RaceAnalysis::kWcp), Set{});
}

TEST(Predictive, SchedulableHappensBeforeDropsRacesThatFollowFromAnEarlierOne) {
  // T2 reads y (a real race with T1's write), then x. Having read y, T2 must run after T1 wrote
  // y — and so after T1 wrote x: the x race HB reports cannot happen (Mathur et al. 2018).
  const char* trace =
      "T1|w(x)|1\n"
      "T1|w(y)|2\n"
      "T2|r(y)|3\n"
      "T2|r(x)|4\n";
  EXPECT_EQ(races(trace, RaceAnalysis::kHb), (Set{"x:1-4", "y:2-3"}));
  EXPECT_EQ(races(trace, RaceAnalysis::kShb), Set{"y:2-3"});
  EXPECT_EQ(races(trace, RaceAnalysis::kSyncp), Set{"y:2-3"});
}

TEST(Predictive, ForkAndJoinOrder) {
  const char* trace =
      "T0|w(x)|1\n"
      "T0|fork(T1)|2\n"
      "T1|w(x)|3\n"
      "T1|w(y)|4\n"
      "T0|join(T1)|5\n"
      "T0|r(y)|6\n";
  for (RaceAnalysis a : {RaceAnalysis::kHb, RaceAnalysis::kShb, RaceAnalysis::kWcp, RaceAnalysis::kSyncp}) {
    EXPECT_EQ(races(trace, a), Set{}) << race_analysis_name(a);
  }
}

TEST(Predictive, DistinctPairsAreReportedOnceWithACount) {
  std::string trace;
  for (int i = 0; i < 3; ++i) trace += "T1|w(x)|1\nT2|w(x)|2\n";
  StdTrace t = parse_ok(trace);
  AnalysisResult r = predict_races(t, RaceAnalysis::kHb, "t.std");
  ASSERT_EQ(r.findings.size(), 2u);  // 1 then 2, and 2 then 1
  std::uint64_t total = 0;
  for (const Finding& f : r.findings) total += f.count;
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(r.events, 6u);
  EXPECT_EQ(r.findings[0].threads, (std::vector<std::string>{"T1", "T2"}));
}

TEST(StdLockset, WritesWithNoCommonLockAreReportedEvenWhenOrdered) {
  // Every write of x is ordered by L in this run, but T1 writes x without holding L once x is
  // shared: Eraser reports the missing discipline. g, guarded by L on every access, is clean, and
  // so is T1's unlocked first write of x (initialization, before another thread touched it).
  const char* trace =
      "T1|acq(L)|1\n"
      "T1|w(g)|2\n"
      "T1|rel(L)|3\n"
      "T1|w(x)|4\n"
      "T1|acq(L)|5\n"
      "T1|rel(L)|6\n"
      "T2|acq(L)|7\n"
      "T2|w(x)|8\n"
      "T2|w(g)|9\n"
      "T2|rel(L)|10\n"
      "T1|acq(L)|11\n"
      "T1|rel(L)|12\n"
      "T1|w(x)|13\n";
  StdTrace t = parse_ok(trace);
  AnalysisResult r = predict_races(t, RaceAnalysis::kLockset, "test.std");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].kind, kUnprotectedWrite);
  EXPECT_EQ(r.findings[0].severity, Severity::kWarning);
  EXPECT_EQ(r.findings[0].objects, std::vector<std::string>{"x"});
  EXPECT_EQ(r.findings[0].locations[0].line, 4u);
  EXPECT_EQ(r.findings[0].locations[1].line, 8u);
  EXPECT_EQ(races(trace, RaceAnalysis::kHb), Set{});  // HB: ordered by L
}

TEST(StdLockset, ForkAndJoinHandOwnershipOver) {
  const char* trace =
      "T0|w(x)|1\n"
      "T0|fork(T1)|2\n"
      "T1|w(x)|3\n"
      "T0|join(T1)|4\n"
      "T0|w(x)|5\n";
  EXPECT_TRUE(predict_races(parse_ok(trace), RaceAnalysis::kLockset, "t").findings.empty());
  // Without the join, T0's last write is concurrent with T1's and no lock is common.
  const char* unjoined =
      "T0|w(x)|1\n"
      "T0|fork(T1)|2\n"
      "T1|w(x)|3\n"
      "T0|w(x)|5\n";
  EXPECT_EQ(predict_races(parse_ok(unjoined), RaceAnalysis::kLockset, "t").findings.size(), 1u);
}

TEST(StdFormat, ErrorsNameTheLineAndKeepTheEventsBefore) {
  StdTrace t;
  Problem p;
  EXPECT_FALSE(StdTrace::parse("T1|acq(L)|1\nT1|rel(L)|2\nT1|lock(L)|3\nT1|w(x)|4\n", "bad.std", &t, &p));
  EXPECT_EQ(p.message(), "bad.std:3: unknown operation 'lock(L)' (STD has acq(L), rel(L), r(V), w(V), fork(T), join(T), begin, end)");
  EXPECT_EQ(t.events.size(), 2u);
  StdTrace u;
  EXPECT_FALSE(StdTrace::parse("T1|w()|1\n", "x.std", &u, &p));
  EXPECT_EQ(p.message(), "x.std:1: malformed operation 'w()' (expected e.g. acq(L1))");
  EXPECT_FALSE(StdTrace::parse("just words\n", "y.std", &u, &p));
  EXPECT_EQ(p.message(), "y.std:1: expected THREAD|OP|LOCATION, got 'just words'");
  StdTrace v;
  EXPECT_TRUE(StdTrace::parse("T1|begin|1\r\n\n# comment\nT1|end\n", "z.std", &v, &p));
  ASSERT_EQ(v.events.size(), 2u);
  EXPECT_EQ(v.events[1].op, StdOp::kEnd);
  EXPECT_EQ(v.locations[v.events[1].location], "");
}

bool same_event(const StdEvent& a, const StdEvent& b) {
  return a.thread == b.thread && a.target == b.target && a.location == b.location && a.op == b.op;
}

// Files past a few MiB are parsed on a second thread, ahead of the consumer: the same events in
// the same order, the same error at the same line, and a consumer's exception stops both.
TEST(StdFormat, LargeFilesStreamTheSameEventsThroughTheParserThread) {
  GeneratorOptions o;
  o.events = 400000;  // about 6 MiB
  o.threads = 6;
  std::ostringstream out;
  generate_std_trace(o).write(out);
  std::string text = out.str() + "T1|w(x\n";  // damaged last line
  ASSERT_GT(text.size(), std::size_t(5) << 20);
  const std::string path = ::testing::TempDir() + "/large.std";
  {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }
  StdTrace direct, streamed;
  Problem p1, p2;
  EXPECT_FALSE(StdTrace::parse(text, path, &direct, &p1));
  std::vector<StdEvent> events;
  EXPECT_FALSE(StdTrace::parse_file_stream(path, &streamed, &p2, [&](const StdEvent& e) { events.push_back(e); }));
  EXPECT_EQ(p1.message(), p2.message());
  ASSERT_EQ(events.size(), direct.events.size());
  for (std::size_t i = 0; i < events.size(); ++i) ASSERT_TRUE(same_event(events[i], direct.events[i])) << i;
  EXPECT_EQ(streamed.locations, direct.locations);
  std::size_t seen = 0;
  EXPECT_THROW(StdTrace::parse_file_stream(path, &streamed, &p2, [&](const StdEvent&) {
    if (++seen == 300000) throw std::runtime_error("consumer gave up");
  }), std::runtime_error);
  EXPECT_EQ(seen, 300000u);
  std::remove(path.c_str());
}

// A generated trace with what the fast path leaves to the general parser mixed in (CR LF,
// comments, blank lines, long names), so slices begin and end on every kind of line.
std::string mixed_std_text(std::uint64_t events) {
  GeneratorOptions o;
  o.events = events;
  o.threads = 7;
  o.variables = 300;
  std::ostringstream out;
  generate_std_trace(o).write(out);
  std::istringstream lines(out.str());
  std::string text, line;
  for (int i = 0; std::getline(lines, line); ++i) {
    if (i % 101 == 5) text += "# a comment\n\n";
    if (i % 53 == 7) text += "worker-thread-with-a-long-name|w(variable_with_a_long_name_" + std::to_string(i % 5) + ")|f.c:12\n";
    text += line + (i % 37 == 3 ? "\r\n" : "\n");
  }
  return text;
}

void expect_same_trace(const StdTrace& a, const std::vector<StdEvent>& events, const StdTrace& names) {
  ASSERT_EQ(events.size(), a.events.size());
  for (std::size_t i = 0; i < events.size(); ++i) ASSERT_TRUE(same_event(events[i], a.events[i])) << i;
  EXPECT_EQ(names.threads, a.threads);
  EXPECT_EQ(names.locks, a.locks);
  EXPECT_EQ(names.variables, a.variables);
  EXPECT_EQ(names.locations, a.locations);
}

// Slices parsed on several threads with names of their own, mapped in order: exactly the events,
// ids and names of one pass, whatever the slice size and the number of workers; a damaged line in
// a later slice gives one pass's error (its line in the whole text) and every event before it.
TEST(StdFormat, SlicedParsingGivesWhatOnePassGives) {
  const std::string text = mixed_std_text(30000);
  StdTrace one_pass = parse_ok(text);
  ASSERT_GT(one_pass.events.size(), 30000u);
  for (std::size_t slice : {std::size_t(1), std::size_t(100), std::size_t(4096), std::size_t(1) << 20}) {
    for (unsigned workers : {1u, 2u, 3u}) {
      SCOPED_TRACE("slice " + std::to_string(slice) + ", workers " + std::to_string(workers));
      StdTrace names;
      Problem p;
      std::vector<StdEvent> events;
      StdTrace::ParallelOptions options;
      options.slice_bytes = slice;
      options.workers = workers;
      EXPECT_TRUE(StdTrace::parse_text_parallel(text, "t.std", &names, &p, [&](const StdEvent* e, std::size_t n) {
        events.insert(events.end(), e, e + n);
      }, options)) << p.message();
      expect_same_trace(one_pass, events, names);
    }
  }
  // Damage two thirds in: the first bad line is reported, as one pass reports it.
  std::string damaged = text;
  damaged.insert(damaged.find('\n', 2 * damaged.size() / 3) + 1, "T1|lock(L)|3\n");
  damaged.insert(damaged.find('\n', 5 * damaged.size() / 6) + 1, "T1|w()|3\n");
  StdTrace prefix;
  Problem expected;
  EXPECT_FALSE(StdTrace::parse(damaged, "d.std", &prefix, &expected));
  EXPECT_NE(expected.message().find("unknown operation 'lock(L)'"), std::string::npos) << expected.message();
  for (unsigned workers : {1u, 3u}) {
    StdTrace names;
    Problem p;
    std::vector<StdEvent> events;
    StdTrace::ParallelOptions options;
    options.slice_bytes = 2000;
    options.workers = workers;
    EXPECT_FALSE(StdTrace::parse_text_parallel(damaged, "d.std", &names, &p, [&](const StdEvent* e, std::size_t n) {
      events.insert(events.end(), e, e + n);
    }, options));
    EXPECT_EQ(p.message(), expected.message());
    expect_same_trace(prefix, events, names);
  }
  // A consumer's exception stops the workers and reaches the caller.
  std::size_t seen = 0;
  StdTrace names;
  Problem p;
  StdTrace::ParallelOptions options;
  options.slice_bytes = 1000;
  options.workers = 2;
  EXPECT_THROW(StdTrace::parse_text_parallel(text, "t.std", &names, &p, [&](const StdEvent*, std::size_t n) {
    seen += n;
    if (seen > 10000) throw std::runtime_error("consumer gave up");
  }, options), std::runtime_error);
  EXPECT_LT(seen, one_pass.events.size());
}

// Files are read in blocks of whole lines (1 MiB, grown for a longer line): lines that straddle
// a block's end, a line longer than a block, a last line without a newline and a damaged line in
// a later block all come out as one pass over the text gives them.
TEST(StdFormat, FilesReadInBlocksGiveWhatOnePassGives) {
  std::string text = mixed_std_text(60000);
  text += "T1|w(x)|" + std::string(1536 * 1024, 'L') + "\n";  // one line of 1.5 MiB
  text += mixed_std_text(20000);
  text += "T2|r(x)|last";  // no newline
  ASSERT_LT(text.size(), std::size_t(4) << 20);  // the single reader, whatever the cores
  const std::string path = ::testing::TempDir() + "/blocks.std";
  auto write = [&](const std::string& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << bytes;
  };
  write(text);
  StdTrace one_pass = parse_ok(text), from_file;
  Problem p;
  ASSERT_TRUE(StdTrace::parse_file(path, &from_file, &p)) << p.message();
  expect_same_trace(one_pass, from_file.events, from_file);
  std::string damaged = text;
  damaged.insert(damaged.find('\n', damaged.size() - 1000) + 1, "T1|lock(L)|3\n");
  StdTrace prefix, streamed;
  Problem expected;
  EXPECT_FALSE(StdTrace::parse(damaged, path, &prefix, &expected));
  write(damaged);
  EXPECT_FALSE(StdTrace::parse_file(path, &streamed, &p));
  EXPECT_EQ(p.message(), expected.message());
  expect_same_trace(prefix, streamed.events, streamed);
  std::remove(path.c_str());
}

// The reader's fast path (short well-formed lines, numbered names through a numeric cache) and its
// general path must agree on every name: each event's interned names are exactly its line's text.
// The names mix what the numeric cache must keep apart: "V7" / "V07" / "X7" / "7", digit runs
// too long for it, prefixes of 8 bytes and longer, names that are all digits (a thread's too, at
// the line's start), names that differ only by trailing NUL bytes (the short-name cache keys on
// bytes and length), names in lines too long for the 32-byte fast path, CR LF endings, comments,
// and a last line without a newline.
TEST(StdFormat, EveryEventNamesExactlyItsLinesText) {
  const std::vector<std::string> threads = {"T1", "T2", "T10", "T01", "main", "worker-3", "T123456789012", "P1T7", "7", "12"};
  const std::vector<std::string> names = {"V7", "V07", "X7", "7", "V0", "V00", "V", "x", "V4031", "V99999999",
                                          "V123456789", "V1234567890", "variable_long_name12", "a.b[3]", "L7", "0",
                                          "V12345678", "abcdefgh12", "abcdefg12", "12345678", "V1x",
                                          std::string("V7\0", 3), std::string("x\0\0", 3), "abc1234", "abcd1234"};
  const std::vector<std::string> locations = {"1", "01", "113", "f.c:12", "", "loc", "very/long/path/to/a/source/file.cpp:4242"};
  struct Expected {
    std::string thread, op, target, location;
  };
  std::vector<Expected> expected;
  std::string text;
  std::uint64_t seed = 12345;
  auto next = [&seed](std::size_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::size_t>((seed >> 33) % n);
  };
  const char* ops[] = {"r", "w", "acq", "rel", "fork", "join", "begin", "end"};
  for (int i = 0; i < 5000; ++i) {
    Expected e;
    e.thread = threads[next(threads.size())];
    e.op = ops[next(8)];
    if (e.op == "fork" || e.op == "join") e.target = threads[next(threads.size())];
    else if (e.op != "begin" && e.op != "end") e.target = names[next(names.size())];
    e.location = locations[next(locations.size())];
    text += e.thread + "|" + e.op + (e.target.empty() ? "" : "(" + e.target + ")");
    if (!(e.location.empty() && next(2) == 0)) text += "|" + e.location;  // "T1|end" has no location at all
    text += next(10) == 0 ? "\r\n" : "\n";
    if (next(50) == 0) text += "# a comment\n\n";
    expected.push_back(e);
  }
  text.pop_back();  // the last line ends without a newline
  if (text.back() == '\r') text.pop_back();
  StdTrace t = parse_ok(text);
  ASSERT_EQ(t.events.size(), expected.size());
  std::set<std::string> distinct_targets;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const StdEvent& e = t.events[i];
    const Expected& x = expected[i];
    ASSERT_EQ(t.threads[e.thread], x.thread) << "line " << i;
    ASSERT_EQ(std::string(std_op_name(e.op)), x.op) << "line " << i;
    ASSERT_EQ(t.locations[e.location], x.location) << "line " << i;
    std::string target;
    if (e.op == StdOp::kFork || e.op == StdOp::kJoin) target = t.threads[e.target];
    if (e.op == StdOp::kAcquire || e.op == StdOp::kRelease) target = t.locks[e.target];
    if (e.op == StdOp::kRead || e.op == StdOp::kWrite) target = t.variables[e.target];
    ASSERT_EQ(target, x.target) << "line " << i;
  }
  // One id per distinct name: no name interned twice.
  EXPECT_EQ(std::set<std::string>(t.variables.begin(), t.variables.end()).size(), t.variables.size());
  EXPECT_EQ(std::set<std::string>(t.locks.begin(), t.locks.end()).size(), t.locks.size());
  EXPECT_EQ(std::set<std::string>(t.threads.begin(), t.threads.end()).size(), t.threads.size());
  EXPECT_EQ(std::set<std::string>(t.locations.begin(), t.locations.end()).size(), t.locations.size());
  EXPECT_EQ(t.variables.size(), names.size());
}

TEST(StdFormat, WriteThenParseIsTheSameTrace) {
  GeneratorOptions o;
  o.events = 20000;
  o.threads = 5;
  StdTrace t = generate_std_trace(o);
  std::ostringstream out;
  t.write(out);
  StdTrace back = parse_ok(out.str());
  ASSERT_EQ(back.events.size(), t.events.size());
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    const StdEvent &a = t.events[i], &b = back.events[i];
    ASSERT_EQ(t.threads[a.thread], back.threads[b.thread]) << i;
    ASSERT_EQ(a.op, b.op) << i;
    ASSERT_EQ(t.locations[a.location], back.locations[b.location]) << i;
  }
}

TEST(Predictive, WcpFindsTheSameRacesWhateverItsDenseTableBudget) {
  // Budget 0: every lock's pairs in the hash map; 3,000: the first locks dense, then moved to the
  // hash map mid-trace as the variables grow; the default: all dense.
  const StdTrace t = generate_std_trace(testing::generator(8, 24, 600, 100000, 0.05));
  auto run = [&](std::size_t budget) {
    RacePredictor p(RaceAnalysis::kWcp, budget);
    p.on_events(t.events.data(), t.events.size());
    std::vector<std::string> out;
    for (const Finding& f : p.finish(t, "gen").findings) {
      out.push_back(f.objects.at(0) + ":" + std::to_string(f.locations.at(0).line) + "-" +
                    std::to_string(f.locations.at(1).line) + "x" + std::to_string(f.count));
    }
    return out;
  };
  const std::vector<std::string> dense = run(kWcpDensePairs);
  EXPECT_GT(dense.size(), 10u);
  EXPECT_EQ(run(0), dense);
  EXPECT_EQ(run(3000), dense);
}

TEST(Generator, SameSeedSameTraceAndLockDisciplineHolds) {
  GeneratorOptions o = testing::generator(8, 16, 512, 200000, 0);
  StdTrace a = generate_std_trace(o), b = generate_std_trace(o);
  std::ostringstream sa, sb;
  a.write(sa);
  b.write(sb);
  EXPECT_EQ(sa.str(), sb.str());
  o.seed = 2;
  std::ostringstream sc;
  generate_std_trace(o).write(sc);
  EXPECT_NE(sa.str(), sc.str());
  // Every shared variable is guarded by one lock: no analysis may find a race.
  for (RaceAnalysis r : {RaceAnalysis::kHb, RaceAnalysis::kShb, RaceAnalysis::kWcp}) {
    EXPECT_EQ(predict_races(a, r, "gen").findings.size(), 0u) << race_analysis_name(r);
  }
  // With a racy share, races appear, and only on the unguarded variables (the last vars/64).
  o.racy = 0.05;
  StdTrace racy = generate_std_trace(o);
  AnalysisResult hb = predict_races(racy, RaceAnalysis::kHb, "gen");
  AnalysisResult wcp = predict_races(racy, RaceAnalysis::kWcp, "gen");
  EXPECT_GT(hb.findings.size(), 0u);
  EXPECT_GE(wcp.findings.size(), hb.findings.size());  // WCP predicts at least what HB sees
  for (const Finding& f : wcp.findings) {
    int v = std::stoi(f.objects[0].substr(1));
    EXPECT_GE(v, 512 - 8) << f.objects[0];
  }
}

}  // namespace
}  // namespace lockgraph::analysis
