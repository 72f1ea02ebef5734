// lockgraph::source_site: the file:line:function of a call, captured without the caller writing it.
//
// Every wrapper operation takes `source_site where = source_site::current()` as its last
// parameter, so `m.lock()` records the line that called lock(). Variadic constructors (thread,
// thread_pool::submit) cannot take a trailing parameter; they record the caller's return address
// instead (from_pc), which the analyzer shows as module+offset. (clang 14 with this libstdc++ has no
// std::source_location; the __builtin_FILE/LINE/FUNCTION default arguments behave the same in g++
// and clang++.) Objects made inside standard-library templates are the exception (creation_site
// below). Cost: the struct is 32 bytes, which the ABI passes through memory, so the hot
// operations (mutex lock/unlock, LG_READ/LG_WRITE) are always inlined and use its values as constants.
#pragma once

namespace lockgraph {

struct source_site {
  const char* file = nullptr;
  const char* function = nullptr;
  unsigned line = 0;
  const void* pc = nullptr;  // set instead of file/line where only a return address is known

  static source_site from_pc(const void* return_address) noexcept {
    return source_site{nullptr, nullptr, 0, return_address};
  }

  static constexpr source_site current(const char* file = __builtin_FILE(),
                                       const char* function = __builtin_FUNCTION(),
                                       unsigned line = __builtin_LINE()) noexcept {
    return source_site{file, function, line, nullptr};
  }
};

namespace detail {

// The address right after the call to it: a point in the caller's code (out of line on purpose).
const void* code_address() noexcept;

// A header of the compiler's standard library, as __builtin_FILE() spells it (g++:
// /usr/include/c++/12/..., clang++: /usr/bin/../lib/gcc/.../include/c++/12/...).
inline bool in_standard_header(const char* file) noexcept {
  if (file == nullptr || __builtin_strncmp(file, "/usr/", 5) != 0) return false;
  return __builtin_strncmp(file, "/usr/include/", 13) == 0 || __builtin_strstr(file, "/include/c++/") != nullptr;
}

// Where a lock (or semaphore, event, condition variable, pool) is created. One that std::make_unique,
// std::optional::emplace, std::map::operator[] or a container's constructor makes gets the
// library's line as its source_site — the same line for every such object of the program, so
// reports named them all `mutex@.../unique_ptr.h:1065#n`. Such an object is recorded instead at
// `code`, a point inside the library template where it constructs, and `caller`, the return
// address of the function that point is in; the runtime keys the site by `code` and the short
// stack from `caller` up (rt::creation_site_id), and the analyzer names it by `code`'s inlined
// frames (the template inlined into the program's function: the program's line) or else by the
// first frame of that stack in the program's own code (library and lockgraph headers skipped);
// when the program's frame is further up than the stack reaches, the library's line stays.
// always_inline, like the constructors that call it, so `code` lies in the constructing code.
// Cost: a prefix compare per object made; a stack walk (~1 us) for the library-made ones.
struct creation_point {
  source_site where;
  const void* caller = nullptr;  // set for an object made inside a standard-library template
};
[[gnu::always_inline]] inline creation_point creation_site(const source_site& where) noexcept {
  if (in_standard_header(where.file)) return {source_site::from_pc(code_address()), __builtin_return_address(0)};
  return {where, nullptr};
}

}  // namespace detail

}  // namespace lockgraph
