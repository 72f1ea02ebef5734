// lockgraph::mutex, timed_mutex, recursive_mutex, recursive_timed_mutex — drop-in replacements
// for the std types that record every acquisition and release into the trace.
//
// Contract: the same member functions and semantics as std::mutex & co., plus an optional name and
// a trailing `source_site` parameter that callers never write (it captures the calling line).
// std::lock_guard, std::unique_lock and std::scoped_lock over these types forward the caller's
// line too (lock_guards.hpp). Misuse is recorded, not punished: unlocking a mutex this thread
// does not hold records the misuse and then behaves as the std type would (undefined there; here a
// plain mutex is unlocked and a recursive one is left alone).
// Cost: uncontended lock+unlock is one try-lock, one unlock and two 16-byte records (see
// bench/); lock() and unlock() are always inlined, so the call site's file:line are constants.
// A contended acquisition spins briefly, then records the request and the wait time.
#pragma once

#include <pthread.h>

#include <chrono>

#include "lockgraph/detail/lock_core.hpp"
#include "lockgraph/process_shared.hpp"

namespace lockgraph {
namespace detail {

template <bool Recursive, bool Timed>
class basic_mutex {
 public:
  using lockgraph_traced = void;
  using native_handle_type = pthread_mutex_t*;

  // always_inline: the creation site is taken inside the code that constructs (creation_site).
  [[gnu::always_inline]] explicit basic_mutex(const char* name = nullptr,
                                              source_site where = source_site::current()) noexcept {
    core_.create(kType, name, creation_site(where));
  }
  // A mutex in shared memory, usable by fork()ed processes (process_shared.hpp).
  basic_mutex(process_shared_t, const char* name = nullptr, source_site where = source_site::current()) noexcept {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
    core_.create(kType, name, {where}, true);
  }
  ~basic_mutex() {
    core_.destroy(source_site{});
    pthread_mutex_destroy(&m_);
  }
  basic_mutex(const basic_mutex&) = delete;
  basic_mutex& operator=(const basic_mutex&) = delete;

  [[gnu::always_inline]] void lock(source_site where = source_site::current()) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) {
      raw_lock_untraced();
      return;
    }
    std::uint32_t site = rt::site_id(t, where);
    if (Recursive && core_.owner() == t->tid) {
      ++depth_;
      core_.acquired(t, site, format::kAcqRecursive);
      return;
    }
    if (pthread_mutex_trylock(&m_) == 0) {
      core_.acquired(t, site, 0);
      return;
    }
    if (spin_for_lock([this] { return pthread_mutex_trylock(&m_); })) {
      core_.acquired(t, site, format::kAcqContended);
      return;
    }
    std::uint64_t got = core_.wait_for_lock(t, site, 0, kNoDeadline, [this](const timespec* ts) {
      return pthread_mutex_timedlock(&m_, ts);
    });
    core_.acquired(t, site, format::kAcqContended, got);
  }

  bool try_lock(source_site where = source_site::current()) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) return raw_try_lock_untraced();
    std::uint32_t site = rt::site_id(t, where);
    if (Recursive && core_.owner() == t->tid) {
      ++depth_;
      core_.acquired(t, site, format::kAcqTry | format::kAcqRecursive);
      return true;
    }
    if (pthread_mutex_trylock(&m_) == 0) {
      core_.acquired(t, site, format::kAcqTry);
      return true;
    }
    core_.failed(t, site, format::kAcqTry);
    return false;
  }

  template <class Rep, class Period>
    requires Timed
  bool try_lock_for(const std::chrono::duration<Rep, Period>& d, source_site where = source_site::current()) noexcept {
    return timed_lock(monotonic_deadline_after(d), where);
  }

  template <class Clock, class Duration>
    requires Timed
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& tp,
                      source_site where = source_site::current()) noexcept {
    return timed_lock(monotonic_deadline(tp), where);
  }

  [[gnu::always_inline]] void unlock(source_site where = source_site::current()) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) {
      raw_unlock_untraced();
      return;
    }
    std::uint32_t site = rt::site_id(t, where);
    bool mine = core_.owner() == t->tid;
    if (Recursive && mine && depth_ > 0) {
      --depth_;
      core_.releasing(t, site, format::kAcqRecursive);
      return;
    }
    core_.releasing(t, site);
    if (Recursive && !mine) return;  // not ours: recorded as misuse, the lock is left alone
    pthread_mutex_unlock(&m_);
  }

  native_handle_type native_handle() noexcept { return &m_; }
  std::uint64_t trace_id() const noexcept { return core_.id(); }
  lock_core& core() noexcept { return core_; }

 private:
  static constexpr format::LockType kType =
      Recursive ? (Timed ? format::LockType::kRecursiveTimedMutex : format::LockType::kRecursiveMutex)
                : (Timed ? format::LockType::kTimedMutex : format::LockType::kMutex);

  bool timed_lock(std::uint64_t deadline, const source_site& where) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) {
      std::uint64_t now = rt::now_ns();
      timespec ts = realtime_after(deadline > now ? deadline - now : 0);
      return pthread_mutex_timedlock(&m_, &ts) == 0;
    }
    std::uint32_t site = rt::site_id(t, where);
    if (Recursive && core_.owner() == t->tid) {
      ++depth_;
      core_.acquired(t, site, format::kAcqTimed | format::kAcqRecursive);
      return true;
    }
    if (pthread_mutex_trylock(&m_) == 0) {
      core_.acquired(t, site, format::kAcqTimed);
      return true;
    }
    std::uint64_t got = core_.wait_for_lock(t, site, format::kAcqTimed, deadline, [this](const timespec* ts) {
      return pthread_mutex_timedlock(&m_, ts);
    });
    if (got == 0) {
      core_.failed(t, site, format::kAcqTimed);
      return false;
    }
    core_.acquired(t, site, format::kAcqTimed | format::kAcqContended, got);
    return true;
  }

  // Untraced paths (tracing disabled or inside the runtime) keep the recursion semantics; a
  // non-recursive mutex is then exactly a pthread mutex (no owner bookkeeping: a disabled
  // lockgraph::mutex costs what std::mutex costs).
  void raw_lock_untraced() noexcept {
    if constexpr (Recursive) {
      if (raw_owner_ == pthread_self() && raw_depth_ > 0) {
        ++raw_depth_;
        return;
      }
    }
    pthread_mutex_lock(&m_);
    if constexpr (Recursive) raw_owner_ = pthread_self(), raw_depth_ = 1;
  }
  bool raw_try_lock_untraced() noexcept {
    if constexpr (Recursive) {
      if (raw_owner_ == pthread_self() && raw_depth_ > 0) {
        ++raw_depth_;
        return true;
      }
    }
    if (pthread_mutex_trylock(&m_) != 0) return false;
    if constexpr (Recursive) raw_owner_ = pthread_self(), raw_depth_ = 1;
    return true;
  }
  void raw_unlock_untraced() noexcept {
    if constexpr (Recursive) {
      if (raw_depth_ > 1) {
        --raw_depth_;
        return;
      }
      raw_depth_ = 0;
      raw_owner_ = pthread_t{};
    }
    pthread_mutex_unlock(&m_);
  }

  lock_core core_;
  pthread_mutex_t m_ = PTHREAD_MUTEX_INITIALIZER;
  unsigned depth_ = 0;  // extra recursion levels beyond the first; guarded by the lock
  pthread_t raw_owner_{};
  unsigned raw_depth_ = 0;
};

}  // namespace detail

using mutex = detail::basic_mutex<false, false>;
using timed_mutex = detail::basic_mutex<false, true>;
using recursive_mutex = detail::basic_mutex<true, false>;
using recursive_timed_mutex = detail::basic_mutex<true, true>;

}  // namespace lockgraph

#include "lockgraph/lock_guards.hpp"
