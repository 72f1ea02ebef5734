// TraceSet — every process file of one run (binary traces or a text-form trace), opened together
// and replayed as one event stream in an order consistent with happens-before.
//
//   Problem fatal;
//   auto set = TraceSet::open({"lockgraph-trace"}, &fatal);   // nullptr: fatal.message() says why
//   for (auto& p : set->problems()) warn(p.message());       // damage; the rest is analyzed
//   set->replay([&](const Event& e) { ... });
//
// Order: no global clock exists. Per-object sequence numbers fix the order of operations on each
// lock, semaphore, event, condition variable and annotation; thread create/start, end/join, pool
// submit/start and end/result, and fork/child start are matched by identity. replay() interleaves
// the threads' program orders so that every one of those constraints holds (any such interleaving
// is a valid linearization, DESIGN.md). Where the trace is incomplete (a killed process) and no
// thread can proceed, the smallest pending sequence number is taken and the gap is reported.
// Cost: memory O(threads + live objects + pending hand-offs); time O(events) with one hash lookup
// per synchronization event. Text traces are replayed in file order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lockgraph/analyzer/event.hpp"
#include "lockgraph/analyzer/symbolize.hpp"
#include "lockgraph/analyzer/text_form.hpp"
#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::analysis {

struct ProcessInfo {
  std::string path;
  std::uint64_t pid = 0;
  std::uint64_t ppid = 0;
  std::uint64_t fork_id = 0;
  std::string program;
  bool has_trailer = false;
  bool ended_by_watchdog = false;
  std::uint64_t records_lost = 0;
  std::uint64_t first_loss_ns = 0;  // monotonic time of the first lost record
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;  // from the trailer; 0 when unknown
};

struct ReplayStats {
  std::uint64_t events = 0;
  std::uint64_t forced = 0;  // constraints that could not be met (records missing) and were skipped
};

class TraceSet {
 public:
  // `names`: which return-address sites to name (symbolize.hpp); `analyze` asks only for those
  // a report shows.
  static std::unique_ptr<TraceSet> open(const std::vector<std::string>& args, Problem* fatal,
                                        SiteNames names = SiteNames::kEvery);
  static std::unique_ptr<TraceSet> from_text(TextTrace text, const std::string& name);

  const std::vector<ProcessInfo>& processes() const noexcept { return processes_; }
  const std::vector<Problem>& problems() const noexcept { return problems_; }
  std::uint64_t record_count() const noexcept;  // records in all files (what replay() will visit, about)
  std::string_view string(std::uint32_t process, std::uint32_t id) const noexcept;
  const Site* site(std::uint32_t process, std::uint32_t id) const noexcept;
  std::string location(std::uint32_t process, std::uint32_t site) const;  // "file:line" or "?"
  std::string function(std::uint32_t process, std::uint32_t site) const;
  // The word a text-form trace used for an object ("A" in obj=A); empty for binary traces.
  std::string object_word(std::uint64_t id) const;

  // Replays every event once, in a happens-before-consistent order. Gaps it had to skip are
  // added to problems() (so call it before printing them) and counted in the stats.
  ReplayStats replay(const std::function<void(const Event&)>& fn);
  // Every event, process by process and thread by thread, in program order (for dump).
  void for_each_in_program_order(const std::function<void(const Event&)>& fn) const;

  // The global variable at `address` in `process`, from debug info ("" if none is known).
  std::string global_name(std::uint32_t process, std::uint64_t address) const;

 private:
  TraceSet() = default;
  std::vector<std::unique_ptr<TraceFile>> files_;
  std::unique_ptr<TextTrace> text_;
  std::vector<ProcessInfo> processes_;
  std::vector<Problem> problems_;
  std::unordered_map<std::uint64_t, std::string> object_words_;
  std::unique_ptr<ModuleDataNames> data_names_ = std::make_unique<ModuleDataNames>();  // every process's modules
  mutable std::vector<std::unique_ptr<GlobalNames>> global_names_;  // per process, filled on demand
};

}  // namespace lockgraph::analysis
