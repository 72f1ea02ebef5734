// Hostile input through the real CLI: traces made to hurt (absurd counts, lengths, ids, cycles
// in parent links, huge strings) are rejected with one precise line — or analyzed, with the
// damage named — in bounded memory: every run here is limited to 1 GiB of address space by
// prlimit, so an allocation driven by an unchecked length fails the test instead of the machine.
// Hangs are caught by ctest's timeout. Fuzzing (tests/fuzz/, scripts/fuzz.sh) covers the rest.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "lockgraph/trace_format.hpp"
#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

const std::string kCli = LOCKGRAPH_CLI;
const std::string kPrograms = LOCKGRAPH_E2E_PROGRAMS;

RunResult analyze_bounded(const std::vector<std::string>& inputs, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{"/usr/bin/prlimit", "--as=1073741824", "--", kCli, "analyze"};
  argv.insert(argv.end(), inputs.begin(), inputs.end());
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_program(argv);
}

// A real trace of the counter program (4 threads, a named mutex): the raw material to damage.
std::string real_trace(const ScratchDir& dir) {
  RunResult p = run_program({kPrograms + "/e2e_counter"}, {"LOCKGRAPH_TRACE_DIR=" + dir / "trace"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  RunResult ls = run_program({"/bin/sh", "-c", "ls " + dir / "trace" + "/*.trace"});
  std::string path = ls.out.substr(0, ls.out.find('\n'));
  return read_text(path);
}

format::FileHeader header_of(const std::string& bytes) {
  format::FileHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  return h;
}

void set_header(std::string& bytes, const format::FileHeader& h) { std::memcpy(bytes.data(), &h, sizeof h); }

// The first chunk's offset and header of `thread`.
std::size_t chunk_of(const std::string& bytes, std::uint32_t thread) {
  for (std::size_t off = format::kHeaderSize; off + 32 <= bytes.size(); off += format::kChunkSize) {
    format::ChunkHeader h;
    std::memcpy(&h, bytes.data() + off, sizeof h);
    if (h.magic == format::kChunkMagic && h.thread == thread) return off;
  }
  return 0;
}

TEST(HostileInput, AbsurdChunkIndexIsAGapNotAnAllocation) {
  ScratchDir dir;
  std::string bytes = real_trace(dir);
  std::size_t off = chunk_of(bytes, 2);
  ASSERT_NE(off, 0u);
  std::uint32_t index = 0xfffffff0u;
  std::memcpy(&bytes[off + 8], &index, 4);
  write_text(dir / "t.trace", bytes);
  RunResult r = analyze_bounded({dir / "t.trace"});
  EXPECT_NE(r.exit_code, 2) << r.err;  // analyzed: the other threads are intact
  EXPECT_NE(r.err.find("thread 2: chunks 0..4294967279 missing; records lost there"), std::string::npos) << r.err;
}

TEST(HostileInput, AbsurdThreadIdsAreRejectedPerChunk) {
  ScratchDir dir;
  std::string bytes = real_trace(dir);
  std::size_t off = chunk_of(bytes, 3);
  ASSERT_NE(off, 0u);
  std::uint32_t thread = 0xfffffffeu;
  std::memcpy(&bytes[off + 4], &thread, 4);
  write_text(dir / "t.trace", bytes);
  RunResult r = analyze_bounded({dir / "t.trace"});
  EXPECT_NE(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("byte " + std::to_string(off + 4) + ": corrupt chunk header (thread id 4294967294); chunk skipped"),
            std::string::npos) << r.err;
}

TEST(HostileInput, UnterminatedStringFillingAChunkIsBoundedByTheChunk) {
  ScratchDir dir;
  std::string bytes = real_trace(dir);
  std::size_t off = chunk_of(bytes, 1);
  ASSERT_NE(off, 0u);
  // Overwrite the chunk's records with one string definition filling the chunk, no NUL anywhere.
  std::size_t rec = off + 32;
  std::size_t len = format::kChunkSize - 32;
  std::uint64_t w0 = format::make_word0(format::Kind::kStringDef, 0, std::uint16_t(len), 77);
  std::memcpy(&bytes[rec], &w0, 8);
  std::memset(&bytes[rec + 8], 'x', len - 8);
  write_text(dir / "t.trace", bytes);
  RunResult r = analyze_bounded({dir / "t.trace"});
  EXPECT_NE(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.find("lockgraph: error"), std::string::npos) << r.err;
}

TEST(HostileInput, CyclicParentLinksBetweenProcessFilesEndTheReplay) {
  ScratchDir dir;
  std::string a = real_trace(dir);
  std::string b = a;
  format::FileHeader ha = header_of(a), hb = header_of(b);
  ha.pid = 1001;
  ha.ppid = 1002;
  ha.fork_id = 7;
  hb.pid = 1002;
  hb.ppid = 1001;
  hb.fork_id = 8;
  set_header(a, ha);
  set_header(b, hb);
  write_text(dir / "a.trace", a);
  write_text(dir / "b.trace", b);
  RunResult r = analyze_bounded({dir / "a.trace", dir / "b.trace"}, {"--format", "json"});
  EXPECT_NE(r.exit_code, 2) << r.err;
  EXPECT_NE(r.out.find("\"findings\""), std::string::npos) << "analyzed to the end: " << r.out.substr(0, 200);
  EXPECT_NE(r.err.find("replay:"), std::string::npos) << "the impossible fork order is reported: " << r.err;
}

TEST(HostileInput, TextTraceWithAbsurdNumbersIsOneLineError) {
  ScratchDir dir;
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {"1 thread_start\n1 lock_acquired obj=A seq=99999999999999999999999\n", "t.txt:2: bad number"},
      {"99999999999999999999 thread_start\n", "t.txt:1: expected PROCESS:THREAD or THREAD"},
      {"process 5\n", "t.txt:1: processes must be numbered 0, 1, 2... in order"},
      {"1 no_such_kind obj=A\n", "t.txt:1: unknown event kind 'no_such_kind'"},
  };
  for (const Case& c : cases) {
    write_text(dir / "t.txt", c.text);
    RunResult r = analyze_bounded({dir / "t.txt"});
    EXPECT_EQ(r.exit_code, 2) << c.text << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.text << " -> " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
}

TEST(HostileInput, HugeIdsAndAHugeNameAreAnalyzedInBoundedMemory) {
  ScratchDir dir;
  std::string huge(8 << 20, 'n');  // an 8 MiB lock name
  std::string text = "1 thread_start\n1 lock_create obj=18446744073709551615 name=" + huge + "\n" +
                     "1 thread_create obj=4294967295\n4294967295 thread_start obj=1\n" +
                     "4294967295 lock_acquired obj=18446744073709551615\n4294967295 lock_release obj=18446744073709551615\n" +
                     "1 lock_acquired obj=18446744073709551615\n1 lock_release obj=18446744073709551615\n";
  write_text(dir / "t.txt", text);
  RunResult r = analyze_bounded({dir / "t.txt"}, {"--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 300);
  EXPECT_NE(r.out.find("\"findings\": []"), std::string::npos) << r.out.substr(0, 300);
}

}  // namespace
}  // namespace lockgraph::testing
