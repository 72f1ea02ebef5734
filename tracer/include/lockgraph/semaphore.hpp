// lockgraph::counting_semaphore<Max> and binary_semaphore — drop-in replacements for the C++20
// types that record every acquire and release with the semaphore's own sequence number, so the
// analyzer orders each acquire after the releases that came before it (the happens-before a
// semaphore hand-off creates), and flags a release past the maximum as lock misuse.
//
// Contract: std::counting_semaphore's interface (acquire, try_acquire, try_acquire_for/until,
// release(n), max()), plus a name and the trailing source_site. A release past max() is recorded
// and then performed anyway (undefined behaviour for std; here the count simply grows).
// Cost: an internal (untraced) mutex and condition variable per semaphore; one record per operation.
#pragma once

#include <pthread.h>

#include <chrono>
#include <cstddef>

#include "lockgraph/detail/lock_core.hpp"
#include "lockgraph/process_shared.hpp"

namespace lockgraph {
namespace detail {

class semaphore_core {
 public:
  semaphore_core(std::ptrdiff_t initial, std::ptrdiff_t max, const char* name, const creation_point& at,
                 bool process_shared) noexcept;
  ~semaphore_core();
  semaphore_core(const semaphore_core&) = delete;
  semaphore_core& operator=(const semaphore_core&) = delete;

  void release(std::ptrdiff_t update, const source_site& where) noexcept;
  // deadline: kNoDeadline blocks; otherwise a CLOCK_MONOTONIC deadline (== now for try_acquire).
  bool acquire(std::uint64_t deadline, std::uint8_t flags, const source_site& where) noexcept;
  std::ptrdiff_t value() noexcept;
  std::uint64_t trace_id() const noexcept { return id_; }

 private:
  pthread_mutex_t mu_;
  pthread_cond_t cv_;
  std::ptrdiff_t count_;
  std::uint64_t seq_ = 0;  // guarded by mu_
  std::uint64_t id_ = 0;
};

}  // namespace detail

template <std::ptrdiff_t Max = 0x7fffffff>
class counting_semaphore {
 public:
  static constexpr std::ptrdiff_t max() noexcept { return Max; }
  // always_inline: the creation site is taken inside the code that constructs (creation_site).
  [[gnu::always_inline]] explicit counting_semaphore(std::ptrdiff_t desired, const char* name = nullptr,
                                                     source_site where = source_site::current()) noexcept
      : core_(desired, Max, name, detail::creation_site(where), false) {}
  // A semaphore in shared memory, usable by fork()ed processes (process_shared.hpp).
  counting_semaphore(process_shared_t, std::ptrdiff_t desired, const char* name = nullptr,
                     source_site where = source_site::current()) noexcept
      : core_(desired, Max, name, {where}, true) {}
  counting_semaphore(const counting_semaphore&) = delete;
  counting_semaphore& operator=(const counting_semaphore&) = delete;

  void release(std::ptrdiff_t update = 1, source_site where = source_site::current()) noexcept {
    core_.release(update, where);
  }
  void acquire(source_site where = source_site::current()) noexcept {
    (void)core_.acquire(detail::kNoDeadline, 0, where);
  }
  bool try_acquire(source_site where = source_site::current()) noexcept {
    return core_.acquire(0, format::kAcqTry, where);
  }
  template <class Rep, class Period>
  bool try_acquire_for(const std::chrono::duration<Rep, Period>& d, source_site where = source_site::current()) noexcept {
    return core_.acquire(detail::monotonic_deadline_after(d), format::kAcqTimed, where);
  }
  template <class Clock, class Duration>
  bool try_acquire_until(const std::chrono::time_point<Clock, Duration>& tp,
                         source_site where = source_site::current()) noexcept {
    return core_.acquire(detail::monotonic_deadline(tp), format::kAcqTimed, where);
  }
  std::uint64_t trace_id() const noexcept { return core_.trace_id(); }
  std::ptrdiff_t value_for_testing() noexcept { return core_.value(); }

 private:
  detail::semaphore_core core_;
};

using binary_semaphore = counting_semaphore<1>;

}  // namespace lockgraph
