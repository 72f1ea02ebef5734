// StdTrace — a trace in the STD text format of the RAPID tool (Mathur et al.), the lingua franca
// of predictive-analysis research: one event per line, `THREAD|OP|LOCATION`, with OP one of
// acq(L), rel(L), r(V), w(V), fork(T), join(T), begin, end. Names are interned to dense ids.
//
//   StdTrace t;
//   Problem p;
//   if (!StdTrace::parse_file("trace.std", &t, &p)) ...   // p: "FILE:LINE: reason"
//
// Parsing is a single pass over the file (read in blocks of whole lines) with no allocation per
// event (names are interned once); parse_file_stream hands events on without keeping them. A malformed line stops parsing with
// a precise error; every event before it is kept (parse_file returns false, t has the prefix).
// Cost: 16 bytes per event plus the name tables.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::analysis {

enum class StdOp : std::uint8_t { kAcquire, kRelease, kRead, kWrite, kFork, kJoin, kBegin, kEnd };

struct StdEvent {
  std::uint32_t thread = 0;
  std::uint32_t target = 0;    // lock, variable or thread id, by op; 0 for begin/end
  std::uint32_t location = 0;  // index into StdTrace::locations
  StdOp op = StdOp::kRead;
};

struct StdTrace {
  std::vector<StdEvent> events;
  std::vector<std::string> threads, locks, variables, locations;

  using EventSink = std::function<void(const StdEvent&)>;
  // Events in order, up to 16 Ki at a time (one call per batch, not per event: the fast path).
  using BatchSink = std::function<void(const StdEvent* events, std::size_t count)>;
  static bool parse_file(const std::string& path, StdTrace* out, Problem* problem);
  static bool parse(std::string_view text, const std::string& name, StdTrace* out, Problem* problem);
  // Streaming: every event goes to `sink` as it is parsed and is not kept; `names` gets the name
  // tables only, so memory is bounded by threads, locks, variables and locations. Files past
  // 4 MiB are parsed ahead of the sink on other threads (parse_text_parallel past two cores); the
  // sink runs on the calling thread.
  static bool parse_file_stream(const std::string& path, StdTrace* names, Problem* problem, const EventSink& sink);
  // `workers`: parser threads for files past 4 MiB (1: one reader ahead of the sink; more: slices,
  // see parse_text_parallel). The default keeps a core for the sink.
  // `ahead`, if set, sees every batch, in order, just before `sink` does, on the reader's thread
  // when one reader runs ahead of the sink (on the calling thread otherwise): work that needs
  // the events but not the sink's state can use the reader's spare time when the sink sets the
  // pace. It must not touch what the sink touches; its results are safe to read once this returns.
  static bool parse_file_batches(const std::string& path, StdTrace* names, Problem* problem, const BatchSink& sink,
                                 unsigned workers = default_workers(), const BatchSink& ahead = BatchSink());
  // The parser of large files: slices of `text` (lines, about `slice_bytes` each) are parsed on
  // `workers` threads with names of their own, which are then mapped to `names` in order, so the
  // sink (on the calling thread) sees exactly what a single pass would give it: the same events,
  // the same ids, the same error with the whole text's line number, every event before it.
  struct ParallelOptions {
    std::size_t slice_bytes = 1 << 20;
    unsigned workers = default_workers();
    bool mapped = false;  // text is a private file mapping starting on a page: parsed pages are dropped
  };
  static unsigned default_workers();  // the machine's cores but one, 1 to 8
  static bool parse_text_parallel(std::string_view text, const std::string& name, StdTrace* names, Problem* problem,
                                  const BatchSink& sink, const ParallelOptions& options);
  void write(std::ostream& out) const;

  std::uint32_t thread_id(std::string_view name);   // interning, for builders (generator, convert)
  std::uint32_t lock_id(std::string_view name);
  std::uint32_t variable_id(std::string_view name);
  std::uint32_t location_id(std::string_view name);

 private:
  friend class StdLineParser;
  static bool parse_text(std::string_view text, const std::string& name, StdTrace* names, Problem* problem,
                         const BatchSink& sink, std::uint64_t* lines = nullptr,
                         std::vector<StdEvent>* into = nullptr);  // into: appended there, not sunk
  static bool parse_fd(int fd, const std::string& path, StdTrace* names, Problem* problem, const BatchSink& sink);
  std::vector<std::string>& names_of(int table);  // threads, locks, variables or locations
  std::uint32_t intern(int table, std::string_view name);
  std::uint32_t intern(int table, std::string_view name, std::uint64_t prefix);  // prefix: first 8 bytes
  // A name that is a short prefix and a canonical decimal number ("V4031", "T3", "113"): looked
  // up by its number in the table's numeric cache, else interned and cached.
  std::uint32_t intern_numbered(int table, std::string_view name, std::size_t prefix_len, std::uint32_t number,
                                const char* buffer_end);
  struct InternSlot {
    std::uint64_t word = 0;  // the name's first 8 bytes
    std::uint32_t id1 = 0;   // id + 1; 0 = empty
    std::uint32_t size = 0;
  };
  std::array<std::vector<InternSlot>, 4> index_;  // threads, locks, variables, locations: open addressing
  // Per table: a cache in front of index_ for the names "<prefix><number>" of one prefix (the
  // first such name's), indexed by number: one load instead of a hash probe in a table that
  // does not fit the L1 cache.
  struct NumericCache {
    std::uint64_t prefix = 0;       // up to 8 bytes
    std::uint64_t prefix_mask = 0;  // the low prefix_len bytes set: an 8-byte load & it is the prefix
    std::uint32_t prefix_len = ~0u; // ~0u: no prefix chosen yet
    std::vector<std::uint32_t> id1; // by number: id + 1, 0 = not cached
  };
  std::array<NumericCache, 4> numeric_;
  // Per table: names of 1 to 7 bytes by their bytes — the name zero-padded with its length in
  // the top byte, so the key is one 8-byte load, a mask and an or — in a direct-mapped table of
  // at least four slots per name (Fibonacci hashing), filled on the parser's misses.
  struct ShortNameCache {
    struct Slot {
      std::uint64_t key = 0;  // 0: empty (a name has a length)
      std::uint32_t id = 0;
    };
    std::vector<Slot> slots;
    unsigned shift = 64;  // 64 - log2(slots.size())
  };
  std::array<ShortNameCache, 4> short_names_;
};

std::string_view std_op_name(StdOp op);

}  // namespace lockgraph::analysis
