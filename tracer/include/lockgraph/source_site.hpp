// lockgraph::source_site: the file:line:function of a call, captured without the caller writing it.
//
// Every wrapper operation takes `source_site where = source_site::current()` as its last
// parameter, so `m.lock()` records the line that called lock(). Variadic constructors (thread,
// thread_pool::submit) cannot take a trailing parameter; they record the caller's return address
// instead (from_pc), which the analyzer shows as module+offset. (clang 14 with this libstdc++ has no
// std::source_location; the __builtin_FILE/LINE/FUNCTION default arguments behave the same in g++
// and clang++.) Cost: the struct is 32 bytes, which the ABI passes through memory, so the hot
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

}  // namespace lockgraph
