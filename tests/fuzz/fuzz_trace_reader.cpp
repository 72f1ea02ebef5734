// libFuzzer target: the binary trace reader (TraceFile) on arbitrary bytes. Every input must be
// either rejected with a Problem or read to the end: no crash, no sanitizer report, no hang, no
// allocation driven by an unchecked length. Seeds: real traces (scripts/fuzz.sh).
#include <cstddef>
#include <cstdint>

#include "lockgraph/analyzer/trace_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lockgraph::analysis;
  Problem error;
  auto file = TraceFile::from_bytes("fuzz.trace", data, size, &error);
  if (!file) return 0;
  std::uint64_t sum = 0;
  for (std::uint32_t t : file->threads()) {
    auto cursor = file->cursor(t);
    for (Event e; cursor.next(&e);) {
      sum += e.kind == Kind::kNone ? 0 : e.seq + e.extra_words;
      for (std::uint32_t i = 0; i < e.extra_words; ++i) sum += e.extra[i];
      (void)file->site(e.site);
    }
  }
  for (const auto& [id, site] : file->sites()) sum += site.location().size() + site.stacks.size();
  for (const Problem& p : file->problems()) sum += p.message().size();
  return sum == 0xdeadbeef ? 1 : 0;  // keeps the loop from being optimized away
}
