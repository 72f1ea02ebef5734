// user_caller(); see caller.hpp.
//
// "System" code is code the user did not write: modules under /lib and /usr/lib, this runtime,
// and the std:: lock and thread functions instantiated into the user's own modules (at -O0
// std::mutex::lock and std::lock_guard's constructor are real functions in the program). The
// latter are found by name in each module's ELF symbol table, read once.
#include "caller.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace lockgraph::preload {
namespace {

// A module's path under the system's library directories, or this runtime's.
bool system_path(const char* f) {
  if (std::strstr(f, "liblockgraph_rt") != nullptr) return true;
  return std::strncmp(f, "/lib/", 5) == 0 || std::strncmp(f, "/usr/lib/", 9) == 0 ||
         std::strncmp(f, "/lib64/", 7) == 0;
}

bool in_system_module(const void* pc) {
  Dl_info info{};
  return dladdr(pc, &info) != 0 && info.dli_fname != nullptr && system_path(info.dli_fname);
}

struct Range {
  std::uintptr_t low, high;
};

// The std:: functions that only pass a lock or thread operation on: std::mutex::lock,
// lock_guard/unique_lock/scoped_lock/shared_lock, std::lock, condition_variable, std::thread's
// constructor and join, vector<std::thread>, and libstdc++'s __gthread_* wrappers. Not every
// std:: function: user code inlined into one (a thread's lambda inside _State_impl::_M_run) is
// the user's.
bool is_library_function(const char* name) {
  if (std::strncmp(name, "_ZL", 3) == 0 && std::strstr(name, "__gthread_") != nullptr) return true;
  const char* rest = nullptr;
  for (const char* prefix : {"_ZNKSt", "_ZNSt", "_ZSt"}) {
    if (std::strncmp(name, prefix, std::strlen(prefix)) == 0) {
      rest = name + std::strlen(prefix);
      break;
    }
  }
  if (rest == nullptr) return false;
  // The mangled name of the class (or function template) right after "std::".
  for (const char* what : {"5mutex", "15recursive_mutex", "11timed_mutex", "21recursive_timed_mutex",
                           "12shared_mutex", "17shared_timed_mutex", "22__shared_mutex_pthread",
                           "10lock_guard", "11unique_lock", "11scoped_lock", "11shared_lock", "4lockI",
                           "8try_lockI", "18condition_variable", "6threadC", "6thread4join",
                           "6vectorISt6thread"}) {
    if (std::strncmp(rest, what, std::strlen(what)) == 0) return true;
  }
  return false;
}

void add_library_functions(const char* path, std::uintptr_t bias, std::vector<Range>& out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return;
  }
  std::size_t size = std::size_t(st.st_size);
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return;
  const auto* base = static_cast<const unsigned char*>(m);
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  bool ok = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
            eh->e_shoff != 0 && eh->e_shoff + std::uint64_t(eh->e_shnum) * sizeof(Elf64_Shdr) <= size;
  const auto* sh = ok ? reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff) : nullptr;
  for (unsigned i = 0; ok && i < eh->e_shnum; ++i) {
    if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
    const Elf64_Shdr& strtab = sh[sh[i].sh_link];
    if (sh[i].sh_offset + sh[i].sh_size > size || strtab.sh_offset + strtab.sh_size > size) continue;
    const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
    std::size_t count = sh[i].sh_size / sizeof(Elf64_Sym);
    const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
    for (std::size_t k = 0; k < count; ++k) {
      const Elf64_Sym& s = syms[k];
      if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_size == 0 || s.st_name >= strtab.sh_size) continue;
      if (!is_library_function(names + s.st_name)) continue;
      out.push_back(Range{bias + s.st_value, bias + s.st_value + s.st_size});
    }
  }
  munmap(m, size);
}

// The std:: function bodies inside the program's own (non-system) modules, sorted.
const std::vector<Range>& library_functions() {
  static const std::vector<Range> ranges = [] {
    std::vector<Range> r;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* ctx) -> int {
          auto& out = *static_cast<std::vector<Range>*>(ctx);
          char self[4096] = {};
          const char* path = info->dlpi_name;
          if (path == nullptr || path[0] == '\0') {
            ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
            if (n <= 0) return 0;
            path = self;
          }
          if (path[0] != '/' || system_path(path)) return 0;
          add_library_functions(path, info->dlpi_addr, out);
          return 0;
        },
        &r);
    std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.low < b.low; });
    return r;
  }();
  return ranges;
}

bool in_library_function(const void* pc) {
  const std::vector<Range>& r = library_functions();
  auto a = reinterpret_cast<std::uintptr_t>(pc);
  auto it = std::upper_bound(r.begin(), r.end(), a, [](std::uintptr_t x, const Range& g) { return x < g.low; });
  return it != r.begin() && a < std::prev(it)->high;
}

bool not_users(const void* pc) { return in_system_module(pc) || in_library_function(pc); }

}  // namespace

thread_local constinit CallerCacheEntry tls_caller_cache[64] = {};

const void* user_caller_slow(const void* pc) noexcept {
  auto h = (reinterpret_cast<std::uintptr_t>(pc) >> 2) & 63;
  CallerCacheEntry& e = tls_caller_cache[h];
  if (e.pc != pc) e = CallerCacheEntry{pc, not_users(pc)};
  if (!e.forwarder) return pc;
  void* frames[24];
  int n = backtrace(frames, 24);
  for (int i = 1; i < n; ++i) {
    if (!not_users(frames[i])) return frames[i];
  }
  return pc;
}

}  // namespace lockgraph::preload
