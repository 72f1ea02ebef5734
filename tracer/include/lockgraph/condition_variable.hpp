// lockgraph::condition_variable — drop-in replacement for std::condition_variable, used with
// std::unique_lock<lockgraph::mutex>.
//
// Contract: std::condition_variable's interface (wait with and without predicate, wait_for,
// wait_until, notify_one, notify_all). A wait records the release of the mutex before blocking
// and its re-acquisition after, with the mutex's sequence numbers: the hand-off through the mutex
// is the happens-before edge, exactly as in the C++ memory model.
// Cost: as std::condition_variable, plus four records per wait and one per notify.
#pragma once

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "lockgraph/mutex.hpp"

namespace lockgraph {

class condition_variable {
 public:
  // always_inline: the creation site is taken inside the code that constructs (creation_site).
  [[gnu::always_inline]] explicit condition_variable(const char* name = nullptr,
                                                     source_site where = source_site::current()) noexcept {
    init(name, detail::creation_site(where));
  }
  ~condition_variable();
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  void notify_one(source_site where = source_site::current()) noexcept;
  void notify_all(source_site where = source_site::current()) noexcept;

  void wait(std::unique_lock<mutex>& lk, source_site where = source_site::current()) {
    (void)wait_ns(lk, detail::kNoDeadline, where);
  }
  template <class Pred>
  void wait(std::unique_lock<mutex>& lk, Pred pred, source_site where = source_site::current()) {
    while (!pred()) (void)wait_ns(lk, detail::kNoDeadline, where);
  }
  template <class Clock, class Duration>
  std::cv_status wait_until(std::unique_lock<mutex>& lk, const std::chrono::time_point<Clock, Duration>& tp,
                            source_site where = source_site::current()) {
    return wait_ns(lk, detail::monotonic_deadline(tp), where);
  }
  template <class Clock, class Duration, class Pred>
  bool wait_until(std::unique_lock<mutex>& lk, const std::chrono::time_point<Clock, Duration>& tp, Pred pred,
                  source_site where = source_site::current()) {
    std::uint64_t deadline = detail::monotonic_deadline(tp);
    while (!pred()) {
      if (wait_ns(lk, deadline, where) == std::cv_status::timeout) return pred();
    }
    return true;
  }
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<mutex>& lk, const std::chrono::duration<Rep, Period>& d,
                          source_site where = source_site::current()) {
    return wait_ns(lk, detail::monotonic_deadline_after(d), where);
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<mutex>& lk, const std::chrono::duration<Rep, Period>& d, Pred pred,
                source_site where = source_site::current()) {
    std::uint64_t deadline = detail::monotonic_deadline_after(d);
    while (!pred()) {
      if (wait_ns(lk, deadline, where) == std::cv_status::timeout) return pred();
    }
    return true;
  }
  std::uint64_t trace_id() const noexcept { return id_; }

 private:
  void init(const char* name, const detail::creation_point& at) noexcept;
  std::cv_status wait_ns(std::unique_lock<mutex>& lk, std::uint64_t deadline, const source_site& where);

  pthread_cond_t cv_;
  std::uint64_t id_ = 0;
  std::atomic<std::uint64_t> seq_{0};
};

}  // namespace lockgraph
