// pthread_mutex_*, pthread_rwlock_* and pthread_spin_* of an unmodified program, recorded.
//
// Each operation records what the wrappers record (lock_core): an acquisition after the real
// lock succeeded, a release before the real unlock, so the per-lock sequence is bumped while the
// lock is held and the trace's order is exact. A blocking acquisition first tries the lock; only
// when it is taken does it publish the wait for the watchdog and block in bounded slices (the
// owner the watchdog sees stays fresh, and a self-deadlock is seen as a one-thread cycle).
// Sites are the caller's return address; the analyzer symbolizes them.
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "lockgraph/detail/lock_core.hpp"
#include "caller.hpp"
#include "object_table.hpp"
#include "real.hpp"

namespace lockgraph::preload {
namespace {

using format::LockType;

LockType mutex_type(const pthread_mutex_t* m) {
  // glibc keeps the type in the low bits of __kind (PTHREAD_MUTEX_KIND_MASK_NP).
  switch (m->__data.__kind & 3) {
    case PTHREAD_MUTEX_RECURSIVE_NP: return LockType::kRecursiveMutex;
    default: return LockType::kMutex;
  }
}

void announce(rt::ThreadState* t, ObjectSlot* s, const void* addr, std::uint32_t site) {
  s->core.reset(rt::new_object_id());
  // value2: the lock's address as a data site, so the analyzer names a global lock after its
  // variable (from debug info); 0 for locks on the heap or stack.
  rt::emit_sync(t, format::Kind::kLockCreate, s->lock_type, site, s->core.id(), 0, 0, 0, rt::intern_data_site(t, addr), 5);
}

// The slot of a lock, with its kLockCreate record written: at the first operation on it, at the
// first one after the program's first thread started (it was tracked silently before), or at the
// first one in a fork()ed child (inherited from the parent: a lock of the child's own now).
ObjectSlot* lock_slot_slow(rt::ThreadState* t, const void* addr, ObjectKind kind, LockType type, std::uint32_t site) {
  bool created = false;
  ObjectSlot* s = find_or_create(addr, kind, &created);
  if (s == nullptr) return s;
  if (created) s->lock_type = static_cast<std::uint8_t>(type);
  const bool inherited = !created && s->generation != fork_generation();
  if (__builtin_expect(created || inherited || !s->announced, 0)) {
    // If it is held — by this thread, or in a child by the copy of the thread that forked — the
    // trace gets the acquisition it has not seen yet.
    std::uint32_t owner = s->core.owner();
    bool held_by_me = owner != 0 && owner == (inherited ? forking_thread() : t->tid);
    s->generation = fork_generation();
    s->announced = true;
    announce(t, s, addr, site);
    if (held_by_me) {
      // Taken silently before the first thread existed: the acquisition is recorded at its own site.
      std::uint32_t at = !inherited && s->silent_pc != nullptr ? rt::pc_site_id(t, s->silent_pc) : site;
      s->core.acquired(t, at, 0);
    } else {
      s->depth = 0;
    }
  }
  return s;
}

// The common case, inline: a slot found for a lock already announced in this process.
inline bool announced_here(const ObjectSlot* s) {
  return __builtin_expect(s != nullptr && s->announced && s->generation == fork_generation(), 1);
}

inline ObjectSlot* lock_slot(rt::ThreadState* t, const void* addr, ObjectKind kind, LockType type, std::uint32_t site) {
  ObjectSlot* s = find(addr);
  if (announced_here(s)) return s;
  return lock_slot_slow(t, addr, kind, type, site);
}

// A mutex's slot. Its type is read from the mutex only when the slot is made: on the fast path
// the first touch of the mutex's cache line is then the real lock's own atomic, one transfer of
// the line from the core that last held it instead of a read followed by an upgrade to write.
inline ObjectSlot* mutex_slot(rt::ThreadState* t, pthread_mutex_t* m, std::uint32_t site) {
  ObjectSlot* s = find(m);
  if (announced_here(s)) return s;
  return lock_slot_slow(t, m, ObjectKind::kMutex, mutex_type(m), site);
}

// Mutexes held by the only thread before the first pthread_create: announced, with their
// acquisition, when the second thread is about to exist.
constexpr std::size_t kSilentHeldMax = 64;
const void* g_silent_held[kSilentHeldMax];
std::size_t g_silent_count = 0;

void silent_acquired(rt::ThreadState* t, ObjectSlot* s, const void* addr, const void* pc) {
  if (s->core.owner() == t->tid) {
    ++s->depth;
    return;
  }
  s->core.set_owner(t->tid);
  s->depth = 1;
  s->silent_pc = pc;
  if (g_silent_count < kSilentHeldMax) g_silent_held[g_silent_count++] = addr;
}

void silent_released(ObjectSlot* s, const void* addr) {
  if (--s->depth > 0) return;
  s->core.set_owner(0);
  for (std::size_t i = 0; i < g_silent_count; ++i) {
    if (g_silent_held[i] == addr) {
      g_silent_held[i] = g_silent_held[--g_silent_count];
      break;
    }
  }
}

void record_destroy(rt::ThreadState* t, const void* addr, std::uint32_t site) {
  std::uint32_t owner = 0;
  std::uint64_t id = forget(addr, &owner);
  if (id != 0 && t != nullptr) rt::emit_sync(t, format::Kind::kLockDestroy, 0, site, id, 0, 0, owner, 0, 4);
}

std::uint64_t monotonic_deadline_of(const timespec* abs_realtime) {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  std::int64_t left = (std::int64_t(abs_realtime->tv_sec) - now.tv_sec) * 1000000000 +
                      (abs_realtime->tv_nsec - now.tv_nsec);
  return rt::now_ns() + std::uint64_t(left > 0 ? left : 0);
}

enum class Mode { kBlock, kTry, kTimed };

// The shared acquisition protocol. `try_op()` returns 0 or EBUSY; `timed_op(ts)` blocks until an
// absolute CLOCK_REALTIME time and returns 0, ETIMEDOUT or an error.
template <class TryOp, class TimedOp>
int acquire(rt::ThreadState* t, ObjectSlot* s, std::uint32_t site, Mode mode, const timespec* abstime, bool shared,
            TryOp try_op, TimedOp timed_op) {
  const bool recursive_reentry = !shared && s->core.owner() == t->tid;
  std::uint8_t flags = (shared ? format::kAcqShared : 0) | (mode == Mode::kTry ? format::kAcqTry : 0) |
                       (mode == Mode::kTimed ? format::kAcqTimed : 0);
  int rc = try_op();
  std::uint64_t got_at = 0;
  if ((rc == EBUSY || rc == EAGAIN) && mode != Mode::kTry && detail::spin_for_lock(try_op)) {
    rc = 0;
    flags |= format::kAcqContended;
  }
  if (rc == EBUSY || rc == EAGAIN) {
    if (mode == Mode::kTry) {
      s->core.failed(t, site, flags);
      return rc;
    }
    flags |= format::kAcqContended;
    const std::uint64_t deadline = mode == Mode::kBlock ? detail::kNoDeadline : monotonic_deadline_of(abstime);
    got_at = s->core.wait_for_lock(t, site, flags, deadline, timed_op, &rc);
    if (got_at == 0) {
      s->core.failed(t, site, flags);
      return rc;
    }
  } else if (rc != 0 && rc != EOWNERDEAD) {
    return rc;  // EINVAL, EDEADLK, EAGAIN (recursion count), ...: nothing was acquired
  }
  if (shared) {
    s->core.acquired_shared(t, site, flags, got_at);
  } else if (recursive_reentry) {
    ++s->depth;
    s->core.acquired(t, site, flags | format::kAcqRecursive, got_at);
  } else {
    s->depth = 1;
    s->core.acquired(t, site, flags, got_at);
  }
  return rc;
}

// Records the release of an exclusive hold (or of a reader's hold when not the owner).
void release(rt::ThreadState* t, ObjectSlot* s, std::uint32_t site, bool may_be_shared) {
  if (s->core.owner() == t->tid) {
    if (s->depth > 1) {
      --s->depth;
      s->core.releasing(t, site, format::kAcqRecursive);
    } else {
      s->depth = 0;
      s->core.releasing(t, site);
    }
  } else if (may_be_shared && s->core.owner() == 0) {
    s->core.releasing_shared(t, site);
  } else {
    s->core.releasing(t, site);  // not the owner: the analyzer reports the misuse
  }
}

// --- mutexes ---------------------------------------------------------------------------------

int mutex_acquire(pthread_mutex_t* m, const void* pc, Mode mode, const timespec* abstime) {
  const RealFunctions& r = real();
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t == nullptr) {
    return mode == Mode::kTry ? r.mutex_trylock(m) : mode == Mode::kTimed ? r.mutex_timedlock(m, abstime) : r.mutex_lock(m);
  }
  prefetch_slot_for_write(m);  // in flight while the caller's site is looked up
  if (!threaded()) {
    // One thread: track the owner silently. Only a lock that is taken (a self-deadlock, or a
    // thread we cannot see) goes on to the recording path below.
    bool created = false;
    ObjectSlot* s = find_or_create(m, ObjectKind::kMutex, &created);
    if (s != nullptr && created) s->lock_type = static_cast<std::uint8_t>(mutex_type(m));
    if (s != nullptr && (s->announced || s->generation != fork_generation())) s = nullptr;  // recorded already
    if (s != nullptr) {
      int rc = r.mutex_trylock(m);
      if (rc == 0) {
        silent_acquired(t, s, m, user_caller(pc));  // the user's frame now: the stack changes
        return 0;
      }
      if (mode == Mode::kTry || rc != EBUSY) return rc;
    }
  }
  std::uint32_t site = caller_site(t, pc);
  ObjectSlot* s = mutex_slot(t, m, site);
  if (s == nullptr) return mode == Mode::kTry ? r.mutex_trylock(m) : r.mutex_lock(m);
  return acquire(t, s, site, mode, abstime, false, [&] { return r.mutex_trylock(m); },
                 [&](const timespec* ts) { return r.mutex_timedlock(m, ts); });
}

}  // namespace

void announce_silent_locks(rt::ThreadState* t, std::uint32_t site) noexcept {
  for (std::size_t i = 0; i < g_silent_count; ++i) {
    auto* m = static_cast<pthread_mutex_t*>(const_cast<void*>(g_silent_held[i]));
    (void)mutex_slot(t, m, site);
  }
  g_silent_count = 0;
}

}  // namespace lockgraph::preload

using namespace lockgraph;
using namespace lockgraph::preload;

#define LG_EXPORT extern "C" __attribute__((visibility("default")))

LG_EXPORT int pthread_mutex_lock(pthread_mutex_t* m) {
  if (passthrough()) return real().mutex_lock(m);
  return mutex_acquire(m, __builtin_return_address(0), Mode::kBlock, nullptr);
}

LG_EXPORT int pthread_mutex_trylock(pthread_mutex_t* m) {
  if (passthrough()) return real().mutex_trylock(m);
  return mutex_acquire(m, __builtin_return_address(0), Mode::kTry, nullptr);
}

LG_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* m, const timespec* abstime) {
  if (passthrough()) return real().mutex_timedlock(m, abstime);
  return mutex_acquire(m, __builtin_return_address(0), Mode::kTimed, abstime);
}

LG_EXPORT int pthread_mutex_unlock(pthread_mutex_t* m) {
  const RealFunctions& r = real();
  if (passthrough()) return r.mutex_unlock(m);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t != nullptr && !threaded()) {
    ObjectSlot* s = find(m);
    if (s != nullptr && !s->announced && s->generation == fork_generation() && s->core.owner() == t->tid) {
      silent_released(s, m);
      return r.mutex_unlock(m);
    }
  }
  if (t != nullptr) {
    prefetch_slot_for_write(m);
    std::uint32_t site = caller_site(t, pc);
    // An unlock of a mutex never locked is recorded too: the analyzer reports the misuse.
    if (ObjectSlot* s = mutex_slot(t, m, site)) release(t, s, site, false);
  }
  return r.mutex_unlock(m);
}

LG_EXPORT int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* a) {
  const RealFunctions& r = real();
  if (passthrough()) return r.mutex_init(m, a);
  rt::untraced_scope internal;
  // A new mutex at this address is a new lock, whatever lived here before.
  (void)forget(m, nullptr);
  return r.mutex_init(m, a);
}

LG_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m) {
  const RealFunctions& r = real();
  if (passthrough()) return r.mutex_destroy(m);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  record_destroy(t, m, t != nullptr ? caller_site(t, pc) : 0);
  return r.mutex_destroy(m);
}

// --- reader-writer locks ----------------------------------------------------------------------

namespace {

int rwlock_acquire(pthread_rwlock_t* l, const void* pc, Mode mode, const timespec* abstime, bool shared) {
  const RealFunctions& r = real();
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  auto try_op = [&] { return shared ? r.rwlock_tryrdlock(l) : r.rwlock_trywrlock(l); };
  auto timed_op = [&](const timespec* ts) { return shared ? r.rwlock_timedrdlock(l, ts) : r.rwlock_timedwrlock(l, ts); };
  ObjectSlot* s = nullptr;
  std::uint32_t site = 0;
  if (t != nullptr) {
    site = caller_site(t, pc);
    s = lock_slot(t, l, ObjectKind::kRwlock, LockType::kSharedMutex, site);
  }
  if (s == nullptr) {
    if (mode == Mode::kTry) return try_op();
    if (mode == Mode::kTimed) return timed_op(abstime);
    return shared ? r.rwlock_rdlock(l) : r.rwlock_wrlock(l);
  }
  return acquire(t, s, site, mode, abstime, shared, try_op, timed_op);
}

}  // namespace

LG_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  if (passthrough()) return real().rwlock_rdlock(l);
  return rwlock_acquire(l, __builtin_return_address(0), Mode::kBlock, nullptr, true);
}
LG_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  if (passthrough()) return real().rwlock_tryrdlock(l);
  return rwlock_acquire(l, __builtin_return_address(0), Mode::kTry, nullptr, true);
}
LG_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const timespec* abstime) {
  if (passthrough()) return real().rwlock_timedrdlock(l, abstime);
  return rwlock_acquire(l, __builtin_return_address(0), Mode::kTimed, abstime, true);
}
LG_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  if (passthrough()) return real().rwlock_wrlock(l);
  return rwlock_acquire(l, __builtin_return_address(0), Mode::kBlock, nullptr, false);
}
LG_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  if (passthrough()) return real().rwlock_trywrlock(l);
  return rwlock_acquire(l, __builtin_return_address(0), Mode::kTry, nullptr, false);
}
LG_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const timespec* abstime) {
  if (passthrough()) return real().rwlock_timedwrlock(l, abstime);
  return rwlock_acquire(l, __builtin_return_address(0), Mode::kTimed, abstime, false);
}

LG_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  const RealFunctions& r = real();
  if (passthrough()) return r.rwlock_unlock(l);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t != nullptr) {
    std::uint32_t site = caller_site(t, pc);
    if (ObjectSlot* s = lock_slot(t, l, ObjectKind::kRwlock, LockType::kSharedMutex, site)) release(t, s, site, true);
  }
  return r.rwlock_unlock(l);
}

LG_EXPORT int pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t* a) {
  const RealFunctions& r = real();
  if (passthrough()) return r.rwlock_init(l, a);
  rt::untraced_scope internal;
  (void)forget(l, nullptr);
  return r.rwlock_init(l, a);
}

LG_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t* l) {
  const RealFunctions& r = real();
  if (passthrough()) return r.rwlock_destroy(l);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  record_destroy(t, l, t != nullptr ? caller_site(t, pc) : 0);
  return r.rwlock_destroy(l);
}

// --- spin locks -------------------------------------------------------------------------------

namespace {
// pthread_spinlock_t is a volatile int; the table only needs its address.
const void* spin_key(pthread_spinlock_t* l) { return const_cast<const int*>(l); }
}  // namespace

LG_EXPORT int pthread_spin_lock(pthread_spinlock_t* l) {
  const RealFunctions& r = real();
  if (passthrough()) return r.spin_lock(l);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  ObjectSlot* s = nullptr;
  std::uint32_t site = 0;
  if (t != nullptr) {
    site = caller_site(t, pc);
    s = lock_slot(t, spin_key(l), ObjectKind::kSpin, LockType::kSpinLock, site);
  }
  if (s == nullptr) return r.spin_lock(l);
  // A spin lock has no timed variant: the bounded slices are yields between tries.
  return acquire(t, s, site, Mode::kBlock, nullptr, false, [&] { return r.spin_trylock(l); },
                 [&](const timespec*) {
                   for (int i = 0; i < 4096; ++i) {
                     if (r.spin_trylock(l) == 0) return 0;
                     sched_yield();
                   }
                   return ETIMEDOUT;
                 });
}

LG_EXPORT int pthread_spin_trylock(pthread_spinlock_t* l) {
  const RealFunctions& r = real();
  if (passthrough()) return r.spin_trylock(l);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t == nullptr) return r.spin_trylock(l);
  std::uint32_t site = caller_site(t, pc);
  ObjectSlot* s = lock_slot(t, spin_key(l), ObjectKind::kSpin, LockType::kSpinLock, site);
  if (s == nullptr) return r.spin_trylock(l);
  return acquire(t, s, site, Mode::kTry, nullptr, false, [&] { return r.spin_trylock(l); },
                 [&](const timespec*) { return EBUSY; });
}

LG_EXPORT int pthread_spin_unlock(pthread_spinlock_t* l) {
  const RealFunctions& r = real();
  if (passthrough()) return r.spin_unlock(l);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t != nullptr) {
    std::uint32_t site = caller_site(t, pc);
    if (ObjectSlot* s = lock_slot(t, spin_key(l), ObjectKind::kSpin, LockType::kSpinLock, site)) release(t, s, site, false);
  }
  return r.spin_unlock(l);
}

LG_EXPORT int pthread_spin_init(pthread_spinlock_t* l, int pshared) {
  const RealFunctions& r = real();
  if (passthrough()) return r.spin_init(l, pshared);
  rt::untraced_scope internal;
  (void)forget(spin_key(l), nullptr);
  return r.spin_init(l, pshared);
}

LG_EXPORT int pthread_spin_destroy(pthread_spinlock_t* l) {
  const RealFunctions& r = real();
  if (passthrough()) return r.spin_destroy(l);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  record_destroy(t, spin_key(l), t != nullptr ? caller_site(t, pc) : 0);
  return r.spin_destroy(l);
}
