// lockgraph::shared_mutex — drop-in replacement for std::shared_mutex that records exclusive and
// shared (reader) acquisitions separately, so the analyzer can tell reader–reader orders (which
// never deadlock) from exclusive–shared ones (which can).
//
// Contract: std::shared_mutex's interface plus try_lock_for/until and their shared forms (as
// std::shared_timed_mutex), a name, and the trailing source_site. std::shared_lock and
// std::unique_lock over it forward the caller's line (lock_guards.hpp).
// Cost: as lockgraph::mutex; a shared acquisition bumps the sequence with one atomic increment.
#pragma once

#include <pthread.h>

#include <chrono>

#include "lockgraph/detail/lock_core.hpp"

namespace lockgraph {

class shared_mutex {
 public:
  using lockgraph_traced = void;
  using native_handle_type = pthread_rwlock_t*;

  // always_inline: the creation site is taken inside the code that constructs (creation_site).
  [[gnu::always_inline]] explicit shared_mutex(const char* name = nullptr,
                                               source_site where = source_site::current()) noexcept {
    core_.create(format::LockType::kSharedMutex, name, detail::creation_site(where));
  }
  ~shared_mutex() {
    core_.destroy(source_site{});
    pthread_rwlock_destroy(&rw_);
  }
  shared_mutex(const shared_mutex&) = delete;
  shared_mutex& operator=(const shared_mutex&) = delete;

  void lock(source_site where = source_site::current()) noexcept { (void)acquire(false, detail::kNoDeadline, 0, where); }
  bool try_lock(source_site where = source_site::current()) noexcept { return try_acquire(false, where); }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& d, source_site where = source_site::current()) noexcept {
    return acquire(false, detail::monotonic_deadline_after(d), format::kAcqTimed, where);
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& tp, source_site where = source_site::current()) noexcept {
    return acquire(false, detail::monotonic_deadline(tp), format::kAcqTimed, where);
  }
  void unlock(source_site where = source_site::current()) noexcept {
    if (rt::ThreadState* t = rt::recording_self()) core_.releasing(t, rt::site_id(t, where));
    pthread_rwlock_unlock(&rw_);
  }

  void lock_shared(source_site where = source_site::current()) noexcept { (void)acquire(true, detail::kNoDeadline, 0, where); }
  bool try_lock_shared(source_site where = source_site::current()) noexcept { return try_acquire(true, where); }
  template <class Rep, class Period>
  bool try_lock_shared_for(const std::chrono::duration<Rep, Period>& d, source_site where = source_site::current()) noexcept {
    return acquire(true, detail::monotonic_deadline_after(d), format::kAcqTimed, where);
  }
  template <class Clock, class Duration>
  bool try_lock_shared_until(const std::chrono::time_point<Clock, Duration>& tp,
                             source_site where = source_site::current()) noexcept {
    return acquire(true, detail::monotonic_deadline(tp), format::kAcqTimed, where);
  }
  void unlock_shared(source_site where = source_site::current()) noexcept {
    if (rt::ThreadState* t = rt::recording_self()) core_.releasing_shared(t, rt::site_id(t, where));
    pthread_rwlock_unlock(&rw_);
  }

  native_handle_type native_handle() noexcept { return &rw_; }
  std::uint64_t trace_id() const noexcept { return core_.id(); }

 private:
  int raw_try(bool shared) noexcept { return shared ? pthread_rwlock_tryrdlock(&rw_) : pthread_rwlock_trywrlock(&rw_); }
  int raw_timed(bool shared, const timespec* ts) noexcept {  // ts: absolute CLOCK_REALTIME
    return shared ? pthread_rwlock_timedrdlock(&rw_, ts) : pthread_rwlock_timedwrlock(&rw_, ts);
  }
  void on_acquired(rt::ThreadState* t, bool shared, std::uint32_t site, std::uint8_t flags, std::uint64_t time) noexcept {
    if (shared) {
      core_.acquired_shared(t, site, flags, time);
    } else {
      core_.acquired(t, site, flags, time);
    }
  }

  bool try_acquire(bool shared, const source_site& where) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) return raw_try(shared) == 0;
    std::uint32_t site = rt::site_id(t, where);
    std::uint8_t flags = format::kAcqTry | (shared ? format::kAcqShared : 0);
    if (raw_try(shared) == 0) {
      on_acquired(t, shared, site, flags, 0);
      return true;
    }
    core_.failed(t, site, flags);
    return false;
  }

  bool acquire(bool shared, std::uint64_t deadline, std::uint8_t flags, const source_site& where) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) {
      if (deadline == detail::kNoDeadline) return (shared ? pthread_rwlock_rdlock(&rw_) : pthread_rwlock_wrlock(&rw_)) == 0;
      std::uint64_t now = rt::now_ns();
      timespec ts = detail::realtime_after(deadline > now ? deadline - now : 0);
      return raw_timed(shared, &ts) == 0;
    }
    std::uint32_t site = rt::site_id(t, where);
    if (shared) flags |= format::kAcqShared;
    if (raw_try(shared) == 0) {
      on_acquired(t, shared, site, flags, 0);
      return true;
    }
    std::uint64_t got = core_.wait_for_lock(t, site, flags, deadline,
                                            [this, shared](const timespec* ts) { return raw_timed(shared, ts); });
    if (got == 0) {
      core_.failed(t, site, flags);
      return false;
    }
    on_acquired(t, shared, site, flags | format::kAcqContended, got);
    return true;
  }

  detail::lock_core core_;
  pthread_rwlock_t rw_ = PTHREAD_RWLOCK_INITIALIZER;
};

}  // namespace lockgraph

#include "lockgraph/lock_guards.hpp"
