// Each kind of damage gives one precise error (file, byte offset, reason), and every valid record
// before the damage is still returned.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "lockgraph/annotations.hpp"
#include "lockgraph/mutex.hpp"
#include "lockgraph/thread.hpp"
#include "trace_test_util.hpp"

namespace lockgraph::testing {
namespace {

using analysis::Problem;
using analysis::TraceFile;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

class DamagedTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    auto child = run_traced_child(dir_, [] {
      lockgraph::mutex m("M");
      for (int i = 0; i < 2000; ++i) {  // 4000 records of 16 bytes: the main thread spans several chunks
        m.lock();
        m.unlock();
      }
      return 0;
    });
    ASSERT_EQ(child.exit_code(), 0);
    good_ = without_second_copies(read_file(child.trace));
    path_ = dir_.path() + "/damaged.trace";
    good_events_ = read_events(child.trace).size();
    ASSERT_GT(good_events_, 4000u);
    std::vector<Problem> problems;
    ASSERT_EQ(events_after(good_, &problems), good_events_);  // the reader read one copy anyway
    ASSERT_TRUE(problems.empty()) << problems[0].message();
  }

  // A process that ends while the staging writer copies a chunk leaves that chunk twice. Each
  // test damages one copy of a chunk, so the second copies go first (their magic zeroed).
  static std::string without_second_copies(std::string bytes) {
    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    for_each_chunk(bytes, [&](std::size_t off, const format::ChunkHeader& h) {
      if (!seen.emplace(h.thread, h.index).second) std::memset(&bytes[off], 0, 4);
    });
    return bytes;
  }

  // Opens the damaged copy; returns the number of events still read. The reader scans a file
  // with pread() and bytes in memory in place: both must see the same damage the same way.
  std::size_t events_after(const std::string& bytes, std::vector<Problem>* problems) {
    write_file(path_, bytes);
    Problem file_error, memory_error;
    auto from_file = TraceFile::open(path_, &file_error);
    auto in_memory = TraceFile::from_bytes(path_, bytes.data(), bytes.size(), &memory_error);
    EXPECT_EQ(from_file != nullptr, in_memory != nullptr);
    if (from_file && in_memory) {
      auto messages = [](const TraceFile& f) {
        std::vector<std::string> m;
        for (const Problem& p : f.problems()) m.push_back(p.message());
        return m;
      };
      EXPECT_EQ(messages(*from_file), messages(*in_memory));
      EXPECT_EQ(from_file->record_count(), in_memory->record_count());
      EXPECT_EQ(from_file->threads(), in_memory->threads());
      EXPECT_EQ(from_file->has_trailer(), in_memory->has_trailer());
      EXPECT_EQ(from_file->sites().size(), in_memory->sites().size());
    }
    return read_events(path_, problems).size();
  }

  TempDir dir_;
  std::string good_;
  std::string path_;
  std::size_t good_events_ = 0;
};

// Offset of the main thread's first chunk (chunk 0 is the process chunk or thread 1's).
std::size_t chunk_of_thread(const std::string& bytes, std::uint32_t thread, std::uint32_t index) {
  std::size_t found = 0;
  for_each_chunk(bytes, [&](std::size_t off, const format::ChunkHeader& h) {
    if (found == 0 && h.thread == thread && h.index == index) found = off;
  });
  return found;
}

TEST_F(DamagedTrace, EmptyFile) {
  write_file(path_, "");
  Problem err;
  EXPECT_FALSE(TraceFile::open(path_, &err));
  EXPECT_EQ(err.message(), path_ + ": byte 0: empty file (the traced process wrote nothing)");
}

TEST_F(DamagedTrace, WrongMagic) {
  std::string bytes = good_;
  bytes[0] = 'X';
  write_file(path_, bytes);
  Problem err;
  EXPECT_FALSE(TraceFile::open(path_, &err));
  EXPECT_EQ(err.message(), path_ + ": byte 0: not a lockgraph trace (bad magic)");
}

TEST_F(DamagedTrace, NewerVersion) {
  std::string bytes = good_;
  std::uint32_t v = 7;
  std::memcpy(&bytes[8], &v, 4);
  write_file(path_, bytes);
  Problem err;
  EXPECT_FALSE(TraceFile::open(path_, &err));
  EXPECT_EQ(err.message(), path_ + ": byte 8: trace format version 7 is newer than this lockgraph reads (" +
                               std::to_string(format::kVersion) + "); upgrade lockgraph");
}

TEST_F(DamagedTrace, TruncatedHeader) {
  write_file(path_, good_.substr(0, 100));
  Problem err;
  EXPECT_FALSE(TraceFile::open(path_, &err));
  EXPECT_EQ(err.offset, 100u);
  EXPECT_NE(err.reason.find("truncated header"), std::string::npos) << err.reason;
}

TEST_F(DamagedTrace, MissingFile) {
  Problem err;
  EXPECT_FALSE(TraceFile::open(dir_.path() + "/nope.trace", &err));
  EXPECT_EQ(err.reason, "cannot open: No such file or directory");
}

TEST_F(DamagedTrace, TruncatedInsideAChunkKeepsThePrefix) {
  // Chunks sit in the file in the order the staging writer copied them, not in a thread's order:
  // cut inside thread 1's chunk that lies last in the file, right after its first record begins,
  // so every other chunk of thread 1 lies before the cut and is whole.
  std::size_t last = 0;
  for_each_chunk(good_, [&](std::size_t off, const format::ChunkHeader& h) {
    if (h.thread == 1) last = off;
  });
  ASSERT_NE(last, 0u);
  const std::string& bytes = good_;
  std::vector<Problem> problems;
  std::size_t cut = last + sizeof(format::ChunkHeader) + 4;  // inside that chunk's first record (8 bytes or more)
  std::size_t n = events_after(bytes.substr(0, cut), &problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].offset, cut);
  EXPECT_NE(problems[0].reason.find("truncated: the file ends inside a chunk of thread 1"), std::string::npos);
  // Lost: that chunk (at most a chunk of 16-byte lock records) and the chunks after it (the
  // process chunk's and the trailer's few records); thread 1's other chunks are all read.
  const std::size_t per_chunk = (format::kChunkSize - 32) / 16;
  EXPECT_GT(n, good_events_ - per_chunk - 8);
  EXPECT_LT(n, good_events_);
}

TEST_F(DamagedTrace, CorruptChunkMagicSkipsOnlyThatChunk) {
  std::string bytes = good_;
  std::size_t second = chunk_of_thread(bytes, 1, 1);
  ASSERT_NE(second, 0u);
  bytes[second] = 'Z';
  std::vector<Problem> problems;
  std::size_t n = events_after(bytes, &problems);
  ASSERT_GE(problems.size(), 2u);
  EXPECT_EQ(problems[0].offset, second);
  EXPECT_NE(problems[0].reason.find("corrupt chunk header"), std::string::npos);
  // The chunk after it is still read, and the hole is named.
  EXPECT_NE(problems[1].reason.find("thread 1: chunks 1..1 missing"), std::string::npos) << problems[1].reason;
  std::size_t per_chunk = (format::kChunkSize - 32) / 16;  // packed lock records
  EXPECT_GE(n, good_events_ - per_chunk - 1);
  EXPECT_LT(n, good_events_);
}

TEST_F(DamagedTrace, CorruptRecordLengthStopsThatChunkOnly) {
  std::string bytes = good_;
  std::size_t first = chunk_of_thread(bytes, 1, 0);
  std::size_t rec = first + 32;  // first record of the chunk
  // Walk ten records, then break the eleventh's length field.
  for (int i = 0; i < 10; ++i) {
    std::uint64_t w0;
    std::memcpy(&w0, &bytes[rec], 8);
    rec += format::word0_length(w0);
  }
  std::uint16_t bad = 13;
  std::memcpy(&bytes[rec + 2], &bad, 2);
  std::vector<Problem> problems;
  std::size_t n = events_after(bytes, &problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].offset, rec);
  EXPECT_EQ(problems[0].reason, "corrupt record length 13; rest of chunk of thread 1 skipped");
  EXPECT_GT(n, 1000u);  // the other chunks are intact
}

TEST_F(DamagedTrace, UnknownRecordKind) {
  std::string bytes = good_;
  std::size_t rec = chunk_of_thread(bytes, 1, 0) + 32;
  bytes[rec] = char(200);
  std::vector<Problem> problems;
  events_after(bytes, &problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].offset, rec);
  EXPECT_EQ(problems[0].reason, "unknown record kind 200; rest of chunk of thread 1 skipped");
}

TEST_F(DamagedTrace, NoTrailerIsAcceptedAndSaid) {
  std::string bytes = good_;
  // Remove the trailer chunk (thread 0xffffffff) by zeroing its magic, as if the process was killed.
  for (std::size_t off = format::kHeaderSize; off < bytes.size(); off += format::kChunkSize) {
    format::ChunkHeader h;
    std::memcpy(&h, bytes.data() + off, sizeof h);
    if (h.thread == format::kTrailerThread) std::memset(&bytes[off], 0, 4);
  }
  write_file(path_, bytes);
  Problem err;
  auto f = TraceFile::open(path_, &err);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->has_trailer());
  EXPECT_TRUE(f->problems().empty());
  EXPECT_EQ(read_events(path_).size(), good_events_);
}

// The tracer's staging writer copies each filled chunk to its place in the file and then clears
// the original: a process killed in between leaves the chunk twice. The reader reads each chunk
// once, the longer copy, and says nothing when one copy is a prefix of the other or was cut short
// at a page (the writer's pwritev() stopped by a kill).
std::string chunk_copy(const std::string& bytes, std::size_t off, std::size_t keep = format::kChunkSize) {
  std::string c = bytes.substr(off, format::kChunkSize);
  std::fill(c.begin() + std::ptrdiff_t(keep), c.end(), '\0');
  return c;
}

TEST_F(DamagedTrace, ChunkFoundTwiceIsReadOnce) {
  std::size_t second = chunk_of_thread(good_, 1, 1);
  ASSERT_NE(second, 0u);
  std::vector<Problem> problems;
  std::size_t n = events_after(good_ + chunk_copy(good_, second), &problems);
  EXPECT_TRUE(problems.empty()) << problems[0].message();
  EXPECT_EQ(n, good_events_);
  // Its records are counted once too (the count sizes the analysis's progress).
  Problem err;
  auto twice = TraceFile::open(path_, &err);
  write_file(path_, good_);
  auto once = TraceFile::open(path_, &err);
  ASSERT_TRUE(twice && once);
  EXPECT_EQ(twice->record_count(), once->record_count());
}

// A file of 2,048 chunk positions or more is scanned as two halves on two threads; what lies in
// the second half (a second copy of a chunk of the first, a file that ends inside a chunk header)
// is found as in one pass, and the read is the in-memory one's (events_after compares them).
TEST_F(DamagedTrace, LargeFileScannedInHalvesFindsWhatEachHalfHolds) {
  std::size_t second = chunk_of_thread(good_, 1, 1);
  ASSERT_NE(second, 0u);
  const std::string never_claimed(2100 * format::kChunkSize, '\0');
  const std::string big = good_ + never_claimed + chunk_copy(good_, second) + chunk_copy(good_, second).substr(0, 12);
  ASSERT_GE((big.size() - format::kHeaderSize) / format::kChunkSize, 2048u);
  std::vector<Problem> problems;
  EXPECT_EQ(events_after(big, &problems), good_events_);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].offset, big.size() - 12);
  EXPECT_NE(problems[0].reason.find("the file ends inside a chunk header"), std::string::npos) << problems[0].reason;
}

TEST_F(DamagedTrace, CopyCutShortAtAPageGivesWayToTheWholeOne) {
  std::size_t second = chunk_of_thread(good_, 1, 1);
  ASSERT_NE(second, 0u);
  // The cut copy first in the file, the whole one after it; then the other way round.
  std::string cut_first = good_;
  cut_first.replace(second, format::kChunkSize, chunk_copy(good_, second, 4096));
  cut_first += chunk_copy(good_, second);
  std::vector<Problem> problems;
  EXPECT_EQ(events_after(cut_first, &problems), good_events_);
  EXPECT_TRUE(problems.empty()) << problems[0].message();
  problems.clear();
  EXPECT_EQ(events_after(good_ + chunk_copy(good_, second, 4096), &problems), good_events_);
  EXPECT_TRUE(problems.empty()) << problems[0].message();
  // Only the cut copy left: its whole records are read, and the lost rest is not invented.
  std::string only_cut = good_;
  only_cut.replace(second, format::kChunkSize, chunk_copy(good_, second, 4096));
  std::size_t n = events_after(only_cut, &problems);
  EXPECT_LT(n, good_events_);
  EXPECT_GT(n, good_events_ - (format::kChunkSize - 4096) / 16 - 2);
}

TEST_F(DamagedTrace, TwoDifferentCopiesOfAChunkAreNamed) {
  std::size_t second = chunk_of_thread(good_, 1, 1);
  ASSERT_NE(second, 0u);
  std::string other = chunk_copy(good_, second);
  other[32 + 16 * 10 + 1] ^= 1;  // a flag bit of a record in the middle (packed lock records: 16 bytes)
  std::vector<Problem> problems;
  std::size_t n = events_after(good_ + other, &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].offset, good_.size());
  EXPECT_EQ(problems[0].reason, "two different copies of chunk 1 of thread 1; the longer one is read");
  EXPECT_EQ(n, good_events_);
}

// The writer copies filled chunks with pwritev(), which a kill stops between pages: a copy cut
// there keeps its magic, and the cut may fall inside a record (a lock record of 16 bytes, then an
// access run of 24, so records straddle pages). The copy with zeros from a page on gives way to
// the whole original, silently, whichever comes first in the file.
TEST(CutCopy, CutInsideARecordGivesWayToTheWholeChunk) {
  TempDir dir;
  auto child = run_traced_child(dir, [] {
    lockgraph::mutex m("M");
    static std::uint64_t cells[64];
    for (int i = 0; i < 2000; ++i) {
      m.lock();
      record_write(&cells[i % 64], 8);
      record_write(&cells[(i + 1) % 64], 8);
      m.unlock();
    }
    return 0;
  });
  ASSERT_EQ(child.exit_code(), 0);
  std::string bytes = read_file(child.trace);
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for_each_chunk(bytes, [&](std::size_t off, const format::ChunkHeader& h) {
    if (!seen.emplace(h.thread, h.index).second) std::memset(&bytes[off], 0, 4);  // one copy each
  });
  const std::string path = dir.path() + "/cut.trace";
  write_file(path, bytes);
  const std::size_t whole = read_events(path).size();
  std::size_t second = chunk_of_thread(bytes, 1, 1);
  ASSERT_NE(second, 0u);
  for (std::size_t cut : {std::size_t(4096), std::size_t(8192), std::size_t(12288)}) {
    SCOPED_TRACE(cut);
    std::string cut_first = bytes;
    cut_first.replace(second, format::kChunkSize, chunk_copy(bytes, second, cut));
    cut_first += chunk_copy(bytes, second);
    for (const std::string& file : {cut_first, bytes + chunk_copy(bytes, second, cut)}) {
      write_file(path, file);
      std::vector<Problem> problems;
      EXPECT_EQ(read_events(path, &problems).size(), whole);
      EXPECT_TRUE(problems.empty()) << problems[0].message();
    }
  }
}

}  // namespace
}  // namespace lockgraph::testing
