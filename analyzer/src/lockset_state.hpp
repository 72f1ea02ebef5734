// Internal: LocksetState — Eraser's per-variable state machine (Savage, Burrows, Nelson,
// Sobalvarro, Anderson, "Eraser: A Dynamic Data Race Detector for Multithreaded Programs",
// SOSP 1997), shared by the unprotected_write detector (lockgraph traces) and `--races lockset`
// (STD traces).
//
// Contract: start() with the first access (its thread and the sorted lock ids it holds), then
// access() for every access, including the first. Exclusive while only the first thread touches
// the variable (initialization needs no lock); at the second thread's first access the candidate
// set is the locks held then — intersected with the first thread's common locks if it held one
// on every access (it was not initializing) — and every access intersects it further. Callers
// decide what "reported" means (e.g. written by two threads and emptied()).
// Cost: O(locks held) per access, no allocation once the sets stopped shrinking.
#pragma once

#include <cstdint>
#include <vector>

namespace lockgraph::analysis {

// a := a ∩ b for sorted vectors, without allocating.
inline void intersect_in_place(std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  std::size_t out = 0, j = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    while (j < b.size() && b[j] < a[i]) ++j;
    if (j < b.size() && b[j] == a[i]) a[out++] = a[i];
  }
  a.resize(out);
}

struct LocksetState {
  std::uint32_t first_thread = 0;
  bool shared = false;
  bool exclusive_locked = true;          // the first thread held a lock on every access so far
  std::vector<std::uint32_t> exclusive;  // intersection of the first thread's locksets
  std::vector<std::uint32_t> candidate;  // sorted lock ids common to every shared access

  void start(std::uint32_t thread, const std::vector<std::uint32_t>& held) {
    *this = LocksetState{};
    first_thread = thread;
    exclusive = held;
  }
  void access(std::uint32_t thread, const std::vector<std::uint32_t>& held) {
    if (!shared && thread == first_thread) {
      intersect_in_place(exclusive, held);
      exclusive_locked = exclusive_locked && !held.empty();
    } else if (!shared) {
      shared = true;
      candidate = held;
      if (exclusive_locked) intersect_in_place(candidate, exclusive);
    } else {
      intersect_in_place(candidate, held);
    }
  }
  bool emptied() const { return shared && candidate.empty(); }
};

}  // namespace lockgraph::analysis
