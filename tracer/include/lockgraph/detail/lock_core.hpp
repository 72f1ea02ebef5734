// lockgraph::detail::lock_core — the recording half shared by every traced lock type.
//
// A lock_core carries the lock's identity (id), its per-object sequence number and its owner. The
// owning lock type calls acquired()/releasing() around the real pthread operation; the sequence
// number is bumped while the lock is held, so the analyzer recovers the exact order of every
// acquire and release of this lock without any global clock (DESIGN.md, "The trace").
// Cost of the uncontended path: a few plain stores and one 16-byte record per operation; the clock
// is read for 1 in 64 holds (LOCKGRAPH_TIMING) and for every contended acquisition.
#pragma once

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>

#include "lockgraph/runtime.hpp"
#include "lockgraph/source_site.hpp"

namespace lockgraph::detail {

using format::Kind;

inline timespec to_timespec(std::uint64_t ns) {
  return timespec{static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u)};
}

// An absolute CLOCK_REALTIME time `ns` from now, for the pthread *timedlock calls. (The
// pthread_*_clocklock variants would take CLOCK_MONOTONIC directly, but ThreadSanitizer does not
// intercept them, and the tsan preset must see every lock the tracer takes.) Deadlines are kept on
// the monotonic clock; only each short slice is converted, so a clock jump affects one slice.
inline timespec realtime_after(std::uint64_t ns) {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  std::uint64_t t = std::uint64_t(now.tv_sec) * 1000000000u + std::uint64_t(now.tv_nsec) + ns;
  return to_timespec(t);
}

// Converts any clock's time point to a CLOCK_MONOTONIC deadline in nanoseconds.
template <class Clock, class Duration>
std::uint64_t monotonic_deadline(const std::chrono::time_point<Clock, Duration>& tp) {
  auto left = tp - Clock::now();
  auto left_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  std::uint64_t now = rt::now_ns();
  return left_ns <= 0 ? now : now + std::uint64_t(left_ns);
}

template <class Rep, class Period>
std::uint64_t monotonic_deadline_after(const std::chrono::duration<Rep, Period>& d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  std::uint64_t now = rt::now_ns();
  return ns <= 0 ? now : now + std::uint64_t(ns);
}

// Before a contended acquisition goes to sleep it retries a little: traced critical sections are
// short, a holder usually leaves within a microsecond, and the futex sleep and wake-up of the slow
// path (plus its clock reads and watchdog bookkeeping) cost several. Bounded by time, ~2 us, so an
// oversubscribed machine does not burn its time slice (a holder that was descheduled needs the
// core back): a `pause` takes 10-140 cycles depending on the CPU, and on this project's VM 19 ns,
// so a bound in rounds of pauses was 43 us there. The acquisition still counts as contended.
// `try_lock()` returns 0 when it took the lock. The same idea as glibc's adaptive mutexes.
inline constexpr std::uint64_t kSpinNs = 2000;
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
template <class TryLock>
bool spin_for_lock(TryLock try_lock) noexcept {
  const std::uint64_t start = rt::now_ns();
  for (int round = 0;; ++round) {
    for (int k = 0; k < 4 + round; ++k) cpu_relax();
    if (try_lock() == 0) return true;
    if (rt::now_ns() - start >= kSpinNs) return false;
  }
}

inline constexpr std::uint64_t kNoDeadline = ~std::uint64_t(0);
inline constexpr std::uint64_t kOwnerRefreshNs = 50'000'000;  // how often a waiter refreshes the owner it reports

class lock_core {
 public:
  std::uint64_t id() const noexcept { return id_; }
  std::uint32_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }

  void create(format::LockType type, const char* name, const creation_point& at, bool process_shared = false) noexcept {
    id_ = rt::new_object_id(process_shared);
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) return;
    std::uint32_t name_id = name ? rt::intern_lock_name(t, id_, name) : 0;
    named_ = name != nullptr;
    std::uint8_t flags = static_cast<std::uint8_t>(type) | (process_shared ? format::kLockProcessShared : 0);
    rt::emit_sync(t, Kind::kLockCreate, flags, rt::creation_site_id(t, at), id_, 0, 0, name_id, 0, 4);
  }

  // For objects that are not locks but need an id and a sequence (the preload's semaphores,
  // condition variables and barriers).
  void adopt_id(std::uint64_t id) noexcept { id_ = id; }
  // Ownership without a record (the preload before the program's first thread: see
  // preload/interpose_locks.cpp). Only the owning thread calls it.
  void set_owner(std::uint32_t tid) noexcept { owner_.store(tid, std::memory_order_relaxed); }

  // A new identity for the same memory (the preload, in a fork()ed child): sequence and owner restart.
  void reset(std::uint64_t id) noexcept {
    id_ = id;
    seq_.store(0, std::memory_order_relaxed);
    owner_.store(0, std::memory_order_relaxed);
    timed_hold_ = false;
  }
  std::uint64_t next_seq() noexcept { return bump_shared(); }

  void destroy(const source_site& where) noexcept {
    rt::ThreadState* t = rt::recording_self();
    if (t == nullptr) return;
    if (named_) rt::forget_lock_name(id_);
    rt::emit_sync(t, Kind::kLockDestroy, 0, rt::site_id(t, where), id_, bump_shared(), 0, owner(), 0, 4);
  }

  // Exclusive acquisition completed (the lock is held by t now).
  [[gnu::always_inline]] void acquired(rt::ThreadState* t, std::uint32_t site, std::uint8_t flags, std::uint64_t time = 0) noexcept {
    owner_.store(t->tid, std::memory_order_relaxed);
    std::uint64_t s = seq_.load(std::memory_order_relaxed) + 1;
    seq_.store(s, std::memory_order_relaxed);
    if (time == 0 && rt::should_time(t)) time = rt::now_ns();
    timed_hold_ = time != 0;
    rt::emit_lock(t, Kind::kLockAcquired, flags, site, id_, s, time);
  }

  // Exclusive release about to happen (still held).
  [[gnu::always_inline]] void releasing(rt::ThreadState* t, std::uint32_t site, std::uint8_t flags = 0) noexcept {
    std::uint64_t time = timed_hold_ ? rt::now_ns() : 0;
    std::uint64_t s;
    if (owner_.load(std::memory_order_relaxed) == t->tid) {
      // The owner holds the lock exclusively: no other writer of seq_ exists right now. Leaving
      // an inner level of a recursive mutex keeps the ownership.
      if ((flags & format::kAcqRecursive) == 0) owner_.store(0, std::memory_order_relaxed);
      s = seq_.load(std::memory_order_relaxed) + 1;
      seq_.store(s, std::memory_order_relaxed);
    } else {
      s = bump_shared();  // misuse (unlock by a non-owner): still keep the sequence consistent
    }
    rt::emit_lock(t, Kind::kLockRelease, flags, site, id_, s, time);
  }

  // Shared (reader) acquisition and release: several holders at once, so the bump is atomic.
  void acquired_shared(rt::ThreadState* t, std::uint32_t site, std::uint8_t flags, std::uint64_t time = 0) noexcept {
    rt::emit_lock(t, Kind::kLockAcquired, flags | format::kAcqShared, site, id_, bump_shared(), time);
  }
  void releasing_shared(rt::ThreadState* t, std::uint32_t site) noexcept {
    rt::emit_lock(t, Kind::kLockRelease, format::kAcqShared, site, id_, bump_shared(), 0);
  }

  void failed(rt::ThreadState* t, std::uint32_t site, std::uint8_t flags) noexcept {
    rt::emit_sync(t, Kind::kLockFailed, flags, site, id_, 0, rt::now_ns(), 0, 0, 3);
  }

  // The contended path: records the request, publishes the wait for the watchdog, and retries
  // `timed_lock(abs_realtime_timespec)` (0, ETIMEDOUT or an error) in slices so the owner the
  // watchdog sees stays fresh, until the lock is obtained, `deadline` (monotonic ns) passes or
  // an error other than ETIMEDOUT ends the wait. Returns the time the lock was obtained, or 0;
  // *result gets the last return of timed_lock.
  template <class TimedLock>
  std::uint64_t wait_for_lock(rt::ThreadState* t, std::uint32_t site, std::uint8_t flags,
                              std::uint64_t deadline, TimedLock timed_lock, int* result = nullptr) noexcept {
    std::uint64_t start = rt::now_ns();
    rt::emit_sync(t, Kind::kLockRequest, flags, site, id_, 0, start, 0, 0, 3);
    const bool forever = deadline == kNoDeadline;
    if (forever) rt::begin_wait(t, rt::WaitKind::kLock, id_, owner(), site);
    std::uint64_t got = 0;
    int rc = ETIMEDOUT;
    for (;;) {
      std::uint64_t now = rt::now_ns();
      std::uint64_t slice = kOwnerRefreshNs;
      if (!forever) slice = deadline > now ? std::min(slice, deadline - now) : 0;
      timespec ts = realtime_after(slice);
      rc = timed_lock(&ts);
      if (rc == 0 || rc == EOWNERDEAD) {  // EOWNERDEAD: a robust mutex, obtained
        got = rt::now_ns();
        break;
      }
      if (rc != ETIMEDOUT) break;  // EDEADLK (an errorcheck mutex re-locked), EINVAL, ...
      if (!forever && rt::now_ns() >= deadline) break;
      if (forever) rt::update_wait_owner(t, owner());
    }
    if (forever) rt::end_wait(t);
    if (result != nullptr) *result = rc;
    return got;
  }

 private:
  std::uint64_t bump_shared() noexcept { return seq_.fetch_add(1, std::memory_order_acq_rel) + 1; }

  std::uint64_t id_ = 0;
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint32_t> owner_{0};
  bool timed_hold_ = false;  // guarded by the lock itself
  bool named_ = false;       // its name is kept for the watchdog (rt::intern_lock_name)
};

// A condition-variable wait on a traced lock (the wrapper's condition_variable and the preload's
// pthread_cond_*wait): records the wait's begin, the lock's release before sleeping, an unbounded
// wait for the watchdog, the re-acquisition and the end. `wait()` does the real wait and returns
// 0, ETIMEDOUT or an error; its result is returned.
template <class Wait>
int traced_cond_wait(rt::ThreadState* t, std::uint64_t cond, lock_core& lock, std::uint32_t site, bool bounded,
                     Wait wait) {
  rt::emit_sync(t, Kind::kCondWaitBegin, 0, site, cond, 0, rt::now_ns(), lock.id(), 0, 4);
  lock.releasing(t, site);
  if (!bounded) rt::begin_wait(t, rt::WaitKind::kCondition, cond, 0, site);
  int rc = wait();
  if (!bounded) rt::end_wait(t);
  std::uint64_t now = rt::now_ns();
  lock.acquired(t, site, 0, now);
  rt::emit_sync(t, Kind::kCondWaitEnd, rc == ETIMEDOUT ? 1 : 0, site, cond, 0, now, lock.id(), 0, 4);
  return rc;
}

// Marks the types whose std::lock_guard / unique_lock / scoped_lock / shared_lock specializations
// forward the caller's source site (lock_guards.hpp).
template <class M>
concept traced_lockable = requires { typename M::lockgraph_traced; };

}  // namespace lockgraph::detail
