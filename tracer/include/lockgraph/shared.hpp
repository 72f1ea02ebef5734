// lockgraph::shared<T> — a named variable whose every read and write is recorded, so the analyzer
// can report data races on it by name ("money") with both lines.
//
// Contract:
//   lockgraph::shared<int> money{99, "money"};
//   int m = money.get();      // read, recorded at this line
//   money.set(m - 1);         // write, recorded at this line
//   money -= 1;  money = 5;  int x = money;   // also recorded; operators cannot take a
//                             // source_site, so they record the caller's return address (a pc
//                             // the analyzer shows as module+offset until symbolized)
// shared<T> adds no synchronization: it observes, it does not protect.
// Cost: one filtered access record per read or write (see annotations.hpp).
#pragma once

#include <utility>

#include "lockgraph/annotations.hpp"

namespace lockgraph {

namespace detail {
void record_var_name(const void* addr, std::size_t size, const char* name, const source_site& where) noexcept;
void record_access_pc(const void* addr, std::uint32_t size, bool is_write, const void* pc) noexcept;
}  // namespace detail

template <class T>
class shared {
 public:
  explicit shared(T initial = T{}, const char* name = nullptr, source_site where = source_site::current())
      : value_(std::move(initial)) {
    detail::record_var_name(&value_, sizeof(T), name, where);
  }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;

  T get(source_site where = source_site::current()) const noexcept(std::is_nothrow_copy_constructible_v<T>) {
    rt::record_access(&value_, sizeof(T), false, where);
    return value_;
  }
  void set(T v, source_site where = source_site::current()) {
    rt::record_access(&value_, sizeof(T), true, where);
    value_ = std::move(v);
  }

  __attribute__((noinline)) operator T() const {
    detail::record_access_pc(&value_, sizeof(T), false, __builtin_return_address(0));
    return value_;
  }
  __attribute__((noinline)) shared& operator=(T v) {
    detail::record_access_pc(&value_, sizeof(T), true, __builtin_return_address(0));
    value_ = std::move(v);
    return *this;
  }
  __attribute__((noinline)) shared& operator+=(const T& d) {
    detail::record_access_pc(&value_, sizeof(T), false, __builtin_return_address(0));
    detail::record_access_pc(&value_, sizeof(T), true, __builtin_return_address(0));
    value_ += d;
    return *this;
  }
  __attribute__((noinline)) shared& operator-=(const T& d) {
    detail::record_access_pc(&value_, sizeof(T), false, __builtin_return_address(0));
    detail::record_access_pc(&value_, sizeof(T), true, __builtin_return_address(0));
    value_ -= d;
    return *this;
  }

  // Unrecorded access, for code that synchronizes in ways the trace already shows (e.g. after join).
  T& unsafe_ref() noexcept { return value_; }
  const void* address() const noexcept { return &value_; }

 private:
  T value_;
};

}  // namespace lockgraph
