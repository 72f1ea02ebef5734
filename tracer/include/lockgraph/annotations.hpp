// Recording memory accesses and happens-before edges by hand.
//
//   LG_READ(addr, size) / LG_WRITE(addr, size)   record an access to any memory at this line
//   LG_HAPPENS_BEFORE(obj) / LG_HAPPENS_AFTER(obj)  everything before the first, on any thread,
//       happens-before everything after a later second on the same obj (like TSan's annotations)
//
// Contract: accesses are filtered at record time — the same address and kind recorded again by a
// thread with no synchronization in between adds nothing and is dropped. Annotation keys are
// addresses; unrelated keys may share a sequence slot, which only adds order between them.
// Cost: a recorded access is a filter probe and 4 bytes appended to the thread's access run when it
// is within 2 MiB of the thread's access before (8 otherwise, 16 for the first access after other
// records); a filtered one is the probe. Inlined at the call site.
#pragma once

#include "lockgraph/runtime.hpp"

namespace lockgraph {

[[gnu::always_inline]] inline void record_read(const void* addr, std::uint32_t size, source_site where = source_site::current()) noexcept {
  rt::record_access(addr, size, false, where);
}
[[gnu::always_inline]] inline void record_write(const void* addr, std::uint32_t size, source_site where = source_site::current()) noexcept {
  rt::record_access(addr, size, true, where);
}

inline void happens_before(const void* key, source_site where = source_site::current()) noexcept {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr) return;
  std::uint64_t seq = 0;
  std::uint64_t slot = rt::annotation_slot(key, &seq);
  rt::emit_sync(t, format::Kind::kHbRelease, 0, rt::site_id(t, where), slot, seq, 0,
                reinterpret_cast<std::uintptr_t>(key), 0, 4);
}
inline void happens_after(const void* key, source_site where = source_site::current()) noexcept {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr) return;
  std::uint64_t seq = 0;
  std::uint64_t slot = rt::annotation_slot(key, &seq);
  rt::emit_sync(t, format::Kind::kHbAcquire, 0, rt::site_id(t, where), slot, seq, 0,
                reinterpret_cast<std::uintptr_t>(key), 0, 4);
}

}  // namespace lockgraph

#define LG_READ(addr, size) ::lockgraph::record_read((addr), static_cast<std::uint32_t>(size))
#define LG_WRITE(addr, size) ::lockgraph::record_write((addr), static_cast<std::uint32_t>(size))
#define LG_HAPPENS_BEFORE(obj) ::lockgraph::happens_before(static_cast<const void*>(obj))
#define LG_HAPPENS_AFTER(obj) ::lockgraph::happens_after(static_cast<const void*>(obj))
