// Names of record kinds, lock types and acquisition flags: one table each, used both ways.
#include <array>
#include <utility>

#include "lockgraph/analyzer/event.hpp"

namespace lockgraph::analysis {
namespace {

constexpr std::pair<Kind, std::string_view> kKinds[] = {
    {Kind::kStringDef, "string_def"},
    {Kind::kSiteDef, "site_def"},
    {Kind::kSiteDefPc, "site_def_pc"},
    {Kind::kSiteCallers, "site_callers"},
    {Kind::kModule, "module"},
    {Kind::kTrailer, "trailer"},
    {Kind::kProcessStart, "process_start"},
    {Kind::kProcessFork, "process_fork"},
    {Kind::kVarName, "var_name"},
    {Kind::kThreadCreate, "thread_create"},
    {Kind::kThreadStart, "thread_start"},
    {Kind::kThreadEnd, "thread_end"},
    {Kind::kThreadJoin, "thread_join"},
    {Kind::kThreadDetach, "thread_detach"},
    {Kind::kThreadName, "thread_name"},
    {Kind::kLockCreate, "lock_create"},
    {Kind::kLockDestroy, "lock_destroy"},
    {Kind::kLockRequest, "lock_request"},
    {Kind::kLockAcquired, "lock_acquired"},
    {Kind::kLockFailed, "lock_failed"},
    {Kind::kLockRelease, "lock_release"},
    {Kind::kSemCreate, "sem_create"},
    {Kind::kSemDestroy, "sem_destroy"},
    {Kind::kSemRequest, "sem_request"},
    {Kind::kSemAcquired, "sem_acquired"},
    {Kind::kSemFailed, "sem_failed"},
    {Kind::kSemRelease, "sem_release"},
    {Kind::kEventCreate, "event_create"},
    {Kind::kEventSet, "event_set"},
    {Kind::kEventClear, "event_clear"},
    {Kind::kEventWaitBegin, "event_wait_begin"},
    {Kind::kEventWaitEnd, "event_wait_end"},
    {Kind::kCondCreate, "cond_create"},
    {Kind::kCondWaitBegin, "cond_wait_begin"},
    {Kind::kCondWaitEnd, "cond_wait_end"},
    {Kind::kCondNotify, "cond_notify"},
    {Kind::kBarrierCreate, "barrier_create"},
    {Kind::kBarrierArrive, "barrier_arrive"},
    {Kind::kBarrierDepart, "barrier_depart"},
    {Kind::kPoolCreate, "pool_create"},
    {Kind::kPoolSubmit, "pool_submit"},
    {Kind::kPoolTaskStart, "pool_task_start"},
    {Kind::kPoolTaskEnd, "pool_task_end"},
    {Kind::kPoolResult, "pool_result"},
    {Kind::kPoolCallback, "pool_callback"},
    {Kind::kPoolShutdown, "pool_shutdown"},
    {Kind::kPoolShutdownDone, "pool_shutdown_done"},
    {Kind::kRead, "read"},
    {Kind::kWrite, "write"},
    {Kind::kReadRange, "read_range"},
    {Kind::kWriteRange, "write_range"},
    {Kind::kAtomic, "atomic"},
    {Kind::kFence, "fence"},
    {Kind::kMemAlloc, "mem_alloc"},
    {Kind::kMemFree, "mem_free"},
    {Kind::kHbRelease, "hb_release"},
    {Kind::kHbAcquire, "hb_acquire"},
    {Kind::kDeadlock, "deadlock"},
};

constexpr std::pair<std::uint8_t, std::string_view> kLockTypes[] = {
    {1, "mutex"}, {2, "timed_mutex"}, {3, "recursive_mutex"}, {4, "recursive_timed_mutex"},
    {5, "shared_mutex"}, {6, "spin"}, {7, "shared_timed_mutex"},
};

constexpr std::pair<std::uint8_t, std::string_view> kAcqFlags[] = {
    {format::kAcqShared, "shared"}, {format::kAcqTry, "try"}, {format::kAcqTimed, "timed"},
    {format::kAcqContended, "contended"}, {format::kAcqRecursive, "recursive"},
};

}  // namespace

std::string_view kind_name(Kind kind) noexcept {
  for (const auto& [k, n] : kKinds) {
    if (k == kind) return n;
  }
  return "unknown";
}

bool kind_from_name(std::string_view name, Kind* out) noexcept {
  for (const auto& [k, n] : kKinds) {
    if (n == name) {
      *out = k;
      return true;
    }
  }
  return false;
}

bool is_known_kind(std::uint8_t raw) noexcept {
  // Called for every record the reader validates: a table, not a search.
  static const auto known = [] {
    std::array<bool, 256> t{};
    for (const auto& [k, n] : kKinds) t[static_cast<std::uint8_t>(k)] = true;
    // On disk only: the reader returns them as lock_acquired / lock_release, reads and writes.
    t[static_cast<std::uint8_t>(Kind::kLockAcquiredPacked)] = true;
    t[static_cast<std::uint8_t>(Kind::kLockReleasePacked)] = true;
    t[static_cast<std::uint8_t>(Kind::kAccessRun)] = true;  // returned as reads and writes
    return t;
  }();
  return known[raw];
}

std::string_view lock_type_name(std::uint8_t type) noexcept {
  for (const auto& [t, n] : kLockTypes) {
    if (t == (type & 0x7f)) return n;
  }
  return "lock";
}

bool lock_type_from_name(std::string_view name, std::uint8_t* out) noexcept {
  for (const auto& [t, n] : kLockTypes) {
    if (n == name) {
      *out = t;
      return true;
    }
  }
  return false;
}

std::string acq_flags_text(std::uint8_t flags) {
  std::string out;
  for (const auto& [bit, n] : kAcqFlags) {
    if (flags & bit) {
      if (!out.empty()) out += ',';
      out += n;
    }
  }
  return out;
}

bool acq_flags_from_text(std::string_view text, std::uint8_t* out) noexcept {
  std::uint8_t flags = 0;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    bool found = false;
    for (const auto& [bit, n] : kAcqFlags) {
      if (n == part) {
        flags |= bit;
        found = true;
      }
    }
    if (!found) return false;
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  *out = flags;
  return true;
}

}  // namespace lockgraph::analysis
