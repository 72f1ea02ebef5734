// Allocation records for instrumented programs (kMemAlloc / kMemFree, docs/trace-format.md).
//
// Once the program's instrumented code has called __tsan_init, every heap block handed out and
// given back — and the top of each thread's stack — is recorded: a free ends the race history of
// its bytes, and the replay puts the next allocation of the address after it, so the previous
// owner's accesses are never reported as racing with the next owner's.
// Programs that are not instrumented record no accesses and pay nothing here but a flag test.
// Cost when active: one record per malloc/free, a slot counter bump per free.
#pragma once

#include <cstddef>

namespace lockgraph::preload {

void set_instrumented() noexcept;  // __tsan_init
void record_alloc(const void* p, std::size_t n) noexcept;
void record_free(const void* p, std::size_t n) noexcept;

struct StackRange {
  const void* low = nullptr;
  std::size_t size = 0;
};
// The most recently used part of the calling thread's stack (its top 64 KiB).
StackRange current_stack() noexcept;

}  // namespace lockgraph::preload
