// The text form of a trace: one event per line, printed by `lockgraph dump` and accepted as input
// by `lockgraph analyze` (tests write traces this way). docs/trace-format.md specifies it.
//
//   # comment
//   process 0 pid=100 ppid=1 fork=0 program=/bin/demo
//   0:1 lock_create obj=A type=mutex name=A at=demo.cpp:10
//   0:1 lock_acquired obj=A seq=1 at=demo.cpp:12 flags=contended time=5000
//
// Objects may be numbers (decimal or 0x hex) or words; a word names an object (and a lock's
// `name=` defaults to it). Fields a kind does not use are 0 when omitted. In a text trace the
// lines are already in a valid order: the analyzer takes them as written.
// Cost: parsing keeps the whole text trace in memory (it is meant for tests and small traces).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <unordered_map>
#include <vector>

#include "lockgraph/analyzer/event.hpp"
#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::analysis {

// Which Event field holds the name string id for this kind (nullptr: the kind has no name).
std::uint64_t Event::*name_field(Kind kind) noexcept;

struct TextProcess {
  std::uint64_t pid = 0;
  std::uint64_t ppid = 0;
  std::uint64_t fork_id = 0;
  std::string program;
  bool has_trailer = true;
};

struct TextTrace {
  std::vector<TextProcess> processes;
  std::vector<Event> events;  // in file order; Event::process indexes `processes`
  std::unordered_map<std::uint32_t, std::string> strings;  // shared by all processes
  std::unordered_map<std::uint32_t, Site> sites;
  std::unordered_map<std::string, std::uint64_t> object_names;  // word -> id given to it
  std::vector<std::uint64_t> extra_words;  // storage behind Event::extra
};

// Parses a text trace. On a malformed line returns false with `error` naming the line.
bool parse_text_trace(std::istream& in, const std::string& name, TextTrace* out, Problem* error);

// A value as the text form writes it: double-quoted (with \" and \\) when empty or when it has
// blanks, quotes or backslashes.
std::string quote_if_needed(std::string_view s);

// Formats one event as a text-form line (without the trailing newline).
using StringLookup = std::function<std::string_view(std::uint32_t process, std::uint32_t id)>;
using SiteLookup = std::function<const Site*(std::uint32_t process, std::uint32_t id)>;
std::string format_event(const Event& e, const StringLookup& strings, const SiteLookup& sites);

}  // namespace lockgraph::analysis
