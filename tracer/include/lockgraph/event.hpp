// lockgraph::event — Python's threading.Event in C++: a flag that threads wait on.
//
// Contract: set() raises the flag and wakes every waiter; clear() lowers it; is_set() reads it;
// wait() blocks until the flag is raised; wait(timeout) returns whether it was raised in time.
// A wait that returns true happens-after the set() that raised the flag (recorded with the
// event's own sequence number); a wait that times out is ordered after nothing.
// Cost: an internal (untraced) mutex and condition variable; one record per set/clear, two per wait.
#pragma once

#include <pthread.h>

#include <chrono>

#include "lockgraph/detail/lock_core.hpp"
#include "lockgraph/process_shared.hpp"

namespace lockgraph {

class event {
 public:
  // always_inline: the creation site is taken inside the code that constructs (creation_site).
  [[gnu::always_inline]] explicit event(const char* name = nullptr, source_site where = source_site::current()) noexcept {
    init(false, name, detail::creation_site(where));
  }
  // An event in shared memory, usable by fork()ed processes (process_shared.hpp).
  event(process_shared_t, const char* name = nullptr, source_site where = source_site::current()) noexcept {
    init(true, name, {where});
  }
  ~event();
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  void set(source_site where = source_site::current()) noexcept;
  void clear(source_site where = source_site::current()) noexcept;
  bool is_set() noexcept;
  void wait(source_site where = source_site::current()) noexcept { (void)wait_until_ns(detail::kNoDeadline, where); }
  template <class Rep, class Period>
  bool wait(const std::chrono::duration<Rep, Period>& timeout, source_site where = source_site::current()) noexcept {
    return wait_until_ns(detail::monotonic_deadline_after(timeout), where);
  }
  std::uint64_t trace_id() const noexcept { return id_; }

 private:
  bool wait_until_ns(std::uint64_t deadline, const source_site& where) noexcept;

  void init(bool process_shared, const char* name, const detail::creation_point& at) noexcept;

  pthread_mutex_t mu_;
  pthread_cond_t cv_;
  bool flag_ = false;
  std::uint64_t seq_ = 0;  // guarded by mu_
  std::uint64_t id_ = 0;
};

}  // namespace lockgraph
