// lockgraph::thread — drop-in replacement for std::thread that records creation, start, end, join
// and detach, so the analyzer knows that everything before the constructor happens-before the
// thread's body, and the body happens-before everything after join().
//
// Contract: std::thread's interface. The child thread's trace id is reserved by the creator, so
// the create record names the child even if the child never gets to run.
// Cost: two records at creation, one at start, end and join each.
#pragma once

#include <functional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lockgraph/runtime.hpp"
#include "lockgraph/source_site.hpp"

namespace lockgraph {

namespace detail {
// Records the end of the current thread's body (before it becomes joinable) — exact join order.
void record_thread_end() noexcept;
void record_thread_start(std::uint32_t parent, std::uint32_t child) noexcept;
std::uint32_t record_thread_create(const source_site& where) noexcept;  // returns the child's id
void record_thread_join(std::uint32_t child, const source_site& where, std::thread& th);
void record_thread_detach(std::uint32_t child, const source_site& where) noexcept;
}  // namespace detail

// Names the calling thread in reports: "thread 3 (worker 2)". Call it at the thread's start.
void set_thread_name(const char* name, source_site where = source_site::current()) noexcept;

class thread {
 public:
  using id = std::thread::id;
  using native_handle_type = std::thread::native_handle_type;

  thread() noexcept = default;

  template <class F, class... Args>
    requires(!std::is_same_v<std::remove_cvref_t<F>, thread> && !std::is_same_v<std::remove_cvref_t<F>, source_site>)
  __attribute__((noinline)) explicit thread(F&& f, Args&&... args)
      : thread(source_site::from_pc(__builtin_return_address(0)), std::forward<F>(f), std::forward<Args>(args)...) {}

  // The same, with an explicit creation site (used by the pool and by wrappers of wrappers).
  template <class F, class... Args>
  thread(source_site where, F&& f, Args&&... args) {
    std::uint32_t parent = 0;
    if (rt::ThreadState* t = rt::recording_self()) parent = t->tid;
    child_ = detail::record_thread_create(where);
    th_ = std::thread(
        [parent, child = child_](auto&& fn, auto&&... a) {
          detail::record_thread_start(parent, child);
          std::invoke(std::forward<decltype(fn)>(fn), std::forward<decltype(a)>(a)...);
          detail::record_thread_end();
        },
        std::forward<F>(f), std::forward<Args>(args)...);
  }

  thread(thread&& o) noexcept : th_(std::move(o.th_)), child_(o.child_) { o.child_ = 0; }
  thread& operator=(thread&& o) noexcept {
    if (joinable()) std::terminate();
    th_ = std::move(o.th_);
    child_ = o.child_;
    o.child_ = 0;
    return *this;
  }
  thread(const thread&) = delete;
  thread& operator=(const thread&) = delete;
  ~thread() = default;  // std::thread's destructor terminates if still joinable, as std does

  void join(source_site where = source_site::current()) { detail::record_thread_join(child_, where, th_); }
  void detach(source_site where = source_site::current()) {
    th_.detach();
    detail::record_thread_detach(child_, where);
  }
  bool joinable() const noexcept { return th_.joinable(); }
  id get_id() const noexcept { return th_.get_id(); }
  native_handle_type native_handle() { return th_.native_handle(); }
  static unsigned hardware_concurrency() noexcept { return std::thread::hardware_concurrency(); }
  void swap(thread& o) noexcept {
    th_.swap(o.th_);
    std::swap(child_, o.child_);
  }
  std::uint32_t trace_id() const noexcept { return child_; }

 private:
  std::thread th_;
  std::uint32_t child_ = 0;
};

}  // namespace lockgraph
