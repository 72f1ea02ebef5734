// user_caller(); see caller.hpp.
#include "caller.hpp"

#include <dlfcn.h>
#include <execinfo.h>

#include <cstdint>
#include <cstring>

namespace lockgraph::preload {
namespace {

bool in_system_module(const void* pc) {
  Dl_info info{};
  if (dladdr(pc, &info) == 0 || info.dli_fname == nullptr) return false;
  const char* f = info.dli_fname;
  if (std::strstr(f, "liblockgraph_rt") != nullptr) return true;
  return std::strncmp(f, "/lib/", 5) == 0 || std::strncmp(f, "/usr/lib/", 9) == 0 ||
         std::strncmp(f, "/lib64/", 7) == 0;
}

struct CacheEntry {
  const void* pc;
  bool system;
};
thread_local constinit CacheEntry tls_cache[64] = {};

}  // namespace

const void* user_caller(const void* pc) noexcept {
  auto h = (reinterpret_cast<std::uintptr_t>(pc) >> 2) & 63;
  CacheEntry& e = tls_cache[h];
  if (e.pc != pc) e = CacheEntry{pc, in_system_module(pc)};
  if (!e.system) return pc;
  void* frames[24];
  int n = backtrace(frames, 24);
  for (int i = 1; i < n; ++i) {
    if (!in_system_module(frames[i])) return frames[i];
  }
  return pc;
}

}  // namespace lockgraph::preload
