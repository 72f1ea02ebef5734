// The call site to record for an interposed call: the return address, or — when that lies in
// code the user did not write (std::thread's constructor in libstdc++ calls pthread_create, and
// at -O0 std::mutex::lock is a real function in the program) — the first frame of the stack in
// the user's code, so the site is the user's line.
//
// Cost: a per-thread cache lookup for user-code return addresses (the common case at -O2, where
// std::mutex::lock is inline); a stack walk (backtrace(), about a microsecond) otherwise.
#pragma once

#include <cstdint>

#include "lockgraph/runtime.hpp"

namespace lockgraph::preload {

struct CallerCacheEntry {
  const void* pc;
  bool forwarder;
};
extern thread_local constinit CallerCacheEntry tls_caller_cache[64];
const void* user_caller_slow(const void* pc) noexcept;

inline const void* user_caller(const void* pc) noexcept {
  const CallerCacheEntry& e = tls_caller_cache[(reinterpret_cast<std::uintptr_t>(pc) >> 2) & 63];
  if (__builtin_expect(e.pc == pc && !e.forwarder, 1)) return pc;
  return user_caller_slow(pc);
}

// The site id of an interposed call whose return address is `pc`.
inline std::uint32_t caller_site(rt::ThreadState* t, const void* pc) noexcept {
  return rt::pc_site_id(t, user_caller(pc));
}

}  // namespace lockgraph::preload
