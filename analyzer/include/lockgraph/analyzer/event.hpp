// lockgraph::analysis::Event — one decoded trace record, the unit every analysis consumes.
//
// Field meanings follow the record kind (tracer/include/lockgraph/trace_format.hpp). `process` is
// the index of the process file within a TraceSet; `thread` is the trace thread id inside it.
// Cost: a 72-byte value type (the analysis copies millions through its pipeline: keep it small); `extra` points into the mapped trace file and lives as long as it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lockgraph/trace_format.hpp"

namespace lockgraph::analysis {

using format::Kind;

struct Event {
  Kind kind = Kind::kNone;
  std::uint8_t flags = 0;
  std::uint16_t extra_words = 0;  // words beyond the six fixed ones (a record has at most 8,185)
  std::uint32_t site = 0;
  std::uint32_t thread = 0;
  std::uint32_t process = 0;
  std::uint64_t object = 0;
  std::uint64_t seq = 0;
  std::uint64_t time = 0;
  std::uint64_t value = 0;
  std::uint64_t value2 = 0;
  std::uint64_t value3 = 0;
  const std::uint64_t* extra = nullptr;  // the extra_words words beyond the six fixed ones

  // Access size of kRead/kWrite/ranges/atomics.
  std::uint64_t access_size() const noexcept {
    return (kind == Kind::kRead || kind == Kind::kWrite) ? flags : value;
  }
};

static_assert(sizeof(Event) <= 72, "Event travels through the analysis pipeline by the million: keep it small");

// True for the accesses race detection looks at (plain reads and writes, not atomics).
inline bool is_plain_access(Kind k) {
  return k == Kind::kRead || k == Kind::kWrite || k == Kind::kReadRange || k == Kind::kWriteRange;
}
inline bool is_write(Kind k) { return k == Kind::kWrite || k == Kind::kWriteRange; }

// The process an object belongs to for identity: process-shared objects (fork()ed programs'
// shared-memory locks, semaphores, events) are one object across every process of the run.
inline constexpr std::uint32_t kAllProcesses = 0xffffffffu;
inline std::uint32_t object_scope(std::uint32_t process, std::uint64_t id) noexcept {
  return (id & format::kProcessSharedObject) && !(id & format::kAnnotationTag) ? kAllProcesses : process;
}

// Stable lower_snake names of record kinds, used by the text form and by `dump --stats`.
std::string_view kind_name(Kind kind) noexcept;
bool kind_from_name(std::string_view name, Kind* out) noexcept;
bool is_known_kind(std::uint8_t raw) noexcept;
std::string_view lock_type_name(std::uint8_t type) noexcept;
bool lock_type_from_name(std::string_view name, std::uint8_t* out) noexcept;
// "contended,try" style list of AcqFlags bits.
std::string acq_flags_text(std::uint8_t flags);
bool acq_flags_from_text(std::string_view text, std::uint8_t* out) noexcept;

}  // namespace lockgraph::analysis
