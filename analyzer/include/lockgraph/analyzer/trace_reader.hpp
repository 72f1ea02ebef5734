// Streaming, validating reader of binary lockgraph traces (format v1, docs/trace-format.md).
//
//   Problem err;
//   auto file = TraceFile::open("lockgraph-trace/lockgraph-123.trace", &err);
//   if (!file) die(err.message());           // missing, empty, not a trace, newer version...
//   for (const Problem& p : file->problems()) warn(p.message());  // damage: reading went on
//   for (std::uint32_t t : file->threads()) {
//     auto c = file->cursor(t);
//     for (Event e; c.next(&e);) ...          // this thread's records in program order
//   }
//
// Contract: open() maps the file read-only and validates every chunk and record once; damage is
// reported as a Problem naming the file, the byte offset and the reason, and everything valid
// before it (in that chunk and in every other chunk) is still returned. Definition records
// (strings, sites) are consumed by the reader and resolved through string() and site().
// Cost: one sequential pass over the file at open; memory is O(chunks + sites + strings),
// independent of the number of events; cursors decode lazily from the mapping.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lockgraph/analyzer/event.hpp"
#include "lockgraph/trace_format.hpp"

namespace lockgraph::analysis {

struct Problem {
  std::string file;
  std::uint64_t offset = 0;
  std::string reason;
  bool line = false;             // offset is a line number (text-form traces)
  std::string message() const;   // "FILE: byte OFFSET: REASON", or "FILE:LINE: REASON"
};

// One caller frame of a return-address site (module + offset until symbolized).
struct SiteFrame {
  std::string module;
  std::uint64_t offset = 0;
  std::string file;
  unsigned line = 0;
  std::string function;
};

// A thread's stack above a return-address site, as it first reached the site.
struct SiteStack {
  std::uint32_t thread = 0;        // trace thread id; 0: any thread (traces before format v3)
  std::vector<SiteFrame> frames;   // the callers, innermost first
};

struct Site {
  std::string file;
  unsigned line = 0;
  std::string function;
  std::uint64_t pc = 0;           // for pc sites (no file:line known yet)
  std::string module;
  std::uint64_t module_offset = 0;
  bool data = false;              // a global variable's address: `function` becomes its name
  bool by_caller = false;         // code: named after its stack's first own frame where its inlined frames are library code
  std::uint64_t data_offset = 0;  // data sites: where the address lies in the variable
  std::uint64_t data_size = 0;    // data sites: the variable's size (0 unknown)
  std::string data_member;        // data sites: the part of the variable, from debug info ("[1].m"; "" unknown)
  std::vector<SiteStack> stacks;  // return-address sites: each thread's stack there (the definition's first)
  std::string location() const;   // "file:line", "module+0xOFFSET" or "?"
  // The stack `thread` reached the site by; nullptr when none was recorded for it.
  const SiteStack* stack_of(std::uint32_t thread) const noexcept;
};

// A module loaded in the traced process (recorded for instrumented programs).
struct Module {
  std::uint64_t bias = 0;  // add to the module's ELF addresses to get run-time addresses
  std::uint64_t low = 0, high = 0;
  std::string path;
};

class TraceFile {
 public:
  static std::unique_ptr<TraceFile> open(const std::string& path, Problem* error);
  // The same over bytes in memory (copied): for fuzzing and for traces that are not files.
  static std::unique_ptr<TraceFile> from_bytes(const std::string& name, const void* data, std::size_t size,
                                               Problem* error);
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  const std::string& path() const noexcept { return path_; }
  const format::FileHeader& header() const noexcept { return header_; }
  const std::vector<Problem>& problems() const noexcept { return problems_; }
  // Threads that recorded anything, ascending; 0 holds process-level records.
  const std::vector<std::uint32_t>& threads() const noexcept { return thread_ids_; }
  bool has_trailer() const noexcept { return trailer_.has_value(); }
  const std::optional<Event>& trailer() const noexcept { return trailer_; }
  std::uint64_t records_lost() const noexcept { return header_.events_lost; }
  std::uint64_t record_count() const noexcept { return record_count_; }

  std::string_view string(std::uint32_t id) const noexcept;
  const Site* site(std::uint32_t id) const noexcept;
  const std::unordered_map<std::uint32_t, Site>& sites() const noexcept { return sites_; }
  // The sites of this file's thread_create records (each once), found by the scan.
  const std::vector<std::uint32_t>& thread_creation_sites() const noexcept { return creation_sites_; }
  const std::vector<Module>& modules() const noexcept { return modules_; }
  // Fills in file:line:function of a pc site once it has been symbolized (symbolize.hpp).
  void resolve_site(std::uint32_t id, std::string file, unsigned line, std::string function);
  void set_data_extent(std::uint32_t id, std::uint64_t offset, std::uint64_t size, std::string member = "");
  // Fills in frame `index` of stack `stack` (an index into Site::stacks) once symbolized.
  void resolve_caller(std::uint32_t id, std::size_t stack, std::size_t index, std::string file, unsigned line,
                      std::string function);
  const std::unordered_map<std::uint32_t, std::string>& strings() const noexcept { return strings_; }

  struct Span {
    std::uint64_t begin;  // first record's offset
    std::uint64_t end;    // one past the last valid record
  };

  class Cursor {
   public:
    bool next(Event* e) noexcept;  // false once the thread's records are exhausted

   private:
    friend class TraceFile;
    const TraceFile* file_ = nullptr;
    std::uint32_t thread_ = 0;
    const std::vector<Span>* spans_ = nullptr;
    std::size_t span_ = 0;
    std::uint64_t pos_ = 0;
    std::uint64_t run_index_ = 0;  // next word inside the kAccessRun at pos_
    int run_half_ = 0;             // next half of that word, when it is a pair word
    std::uint64_t run_last_ = 0;   // the address of the run's last access returned
  };
  Cursor cursor(std::uint32_t thread) const;

 private:
  TraceFile() = default;
  bool validate_header(Problem* error);
  // Finds the chunks, their valid records and the definitions; fd: the file to read them from
  // (-1: data_ is in memory).
  void scan(int fd);
  void note_creation_site(std::uint32_t site) {
    if (std::find(creation_sites_.begin(), creation_sites_.end(), site) == creation_sites_.end()) creation_sites_.push_back(site);
  }
  bool decode_at(std::uint64_t offset, std::uint32_t thread, Event* e) const noexcept;

  std::string path_;
  const unsigned char* data_ = nullptr;
  std::uint64_t size_ = 0;
  bool mapped_ = false;                 // data_ is a mapping (open) or owned_ (from_bytes)
  std::vector<unsigned char> owned_;
  format::FileHeader header_{};
  std::vector<Problem> problems_;
  std::unordered_map<std::uint32_t, std::vector<Span>> spans_;  // per thread, in chunk order
  std::vector<std::uint32_t> thread_ids_;
  std::unordered_map<std::uint32_t, std::string> strings_;
  std::unordered_map<std::uint32_t, Site> sites_;
  std::vector<std::uint32_t> creation_sites_;
  std::vector<Module> modules_;
  std::optional<Event> trailer_;
  std::uint64_t record_count_ = 0;
};

// Expands trace arguments: a directory gives its *.trace files (sorted); a file is taken as is.
// Returns false with *error set when a path is missing or a directory holds no trace.
bool expand_trace_paths(const std::vector<std::string>& args, std::vector<std::string>* files, Problem* error);

}  // namespace lockgraph::analysis
