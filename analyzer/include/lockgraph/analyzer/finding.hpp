// Finding — one reported problem, in the form every report format renders.
//
// `kind` values are part of the product's interface (JSON `kind`, SARIF rule ids, --fail-on,
// suppressions): deadlock_potential, lock_order_inversion, deadlock_actual, data_race,
// unprotected_write, lock_misuse, deadlock_static (a cycle in the source's lock order, from
// `lockgraph scan`), hierarchy_violation (against a declared lock hierarchy), deadlock_predicted (a
// cycle with a witness schedule that reaches it, from sound deadlock prediction). `fingerprint` identifies the finding across runs and edits: it
// is built from the kind, object names and file+function of each location — never line numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockgraph::analysis {

inline constexpr std::string_view kDeadlockPotential = "deadlock_potential";
inline constexpr std::string_view kLockOrderInversion = "lock_order_inversion";
inline constexpr std::string_view kDeadlockActual = "deadlock_actual";
inline constexpr std::string_view kDataRace = "data_race";
inline constexpr std::string_view kUnprotectedWrite = "unprotected_write";
inline constexpr std::string_view kLockMisuse = "lock_misuse";
inline constexpr std::string_view kDeadlockStatic = "deadlock_static";
inline constexpr std::string_view kHierarchyViolation = "hierarchy_violation";
inline constexpr std::string_view kDeadlockPredicted = "deadlock_predicted";
inline constexpr std::string_view kAllKinds[] = {kDeadlockPotential, kLockOrderInversion, kDeadlockActual,
                                                  kDataRace,          kUnprotectedWrite,   kLockMisuse,
                                                  kDeadlockStatic,    kHierarchyViolation, kDeadlockPredicted};

enum class Severity { kNote, kWarning, kError };
std::string_view severity_name(Severity s) noexcept;

struct Location {
  std::string file;
  unsigned line = 0;
  std::string function;
  std::string role;    // "holds A", "acquires B", "write", "read", "waits", ...
  std::string thread;  // display name of the thread at this location
  std::vector<std::string> locks_held;
  std::vector<std::string> stack;  // callers, innermost first: "function (file:line)"
};

// One step of a witness schedule: `thread` runs `operation` ("acq(A)", "rel(A)", "fork(T2)",
// "join(T2)") at `file:line`. The last steps are `blocked`: the acquisitions that never return.
struct ScheduleStep {
  std::string thread;
  std::string operation;
  std::string file;
  unsigned line = 0;
  bool blocked = false;
};

struct Finding {
  std::string kind;
  Severity severity = Severity::kError;
  std::string message;               // one line
  std::vector<std::string> threads;  // display names
  std::vector<std::string> objects;  // locks, variables (display names)
  std::vector<Location> locations;
  std::vector<std::string> cycle;    // for deadlocks: lock names in order, first repeated at the end
  std::string advice;
  std::uint64_t count = 1;
  std::string fingerprint;
  std::string process;               // "pid 123 (program)" when the run had several processes
  // deadlock_predicted: a reordering of the trace that reaches the deadlock, lock operations
  // only (each thread runs its other events in between as in the trace); `witness_omitted`
  // earlier lock operations are left out of a long one.
  std::vector<ScheduleStep> witness;
  std::uint64_t witness_omitted = 0;
};

// Fills f.fingerprint from its kind, objects and location files/functions.
void assign_fingerprint(Finding& f);

// A cycle as people read it: "A -> B -> A" (the names in order, joined).
std::string draw_cycle(const std::vector<std::string>& cycle);

}  // namespace lockgraph::analysis
