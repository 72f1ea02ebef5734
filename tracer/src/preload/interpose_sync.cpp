// pthread_cond_*, pthread_barrier_* and sem_* of an unmodified program, recorded.
//
// Hand-offs get a per-object sequence bumped on the releasing side *before* the real operation
// and on the acquiring side *after* it, so whatever a waiter observed was released at a smaller
// sequence number: the analyzer's replay (ordered by sequence) applies every release before the
// acquisitions it can have caused. A barrier's arrivals are numbered to give each its phase, so
// a slow thread leaving phase k never appears to synchronize with arrivals of phase k+1.
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

#include "lockgraph/detail/lock_core.hpp"
#include "object_table.hpp"
#include "caller.hpp"
#include "real.hpp"

namespace lockgraph::preload {
namespace {

using format::Kind;

ObjectSlot* object_slot(rt::ThreadState* t, const void* addr, ObjectKind kind, std::uint32_t site,
                        std::uint64_t initial = 0) {
  bool created = false;
  ObjectSlot* s = find_or_create(addr, kind, &created);
  if (s == nullptr || !created) return s;
  s->core.adopt_id(rt::new_object_id());
  switch (kind) {
    case ObjectKind::kCond:
      rt::emit_sync(t, Kind::kCondCreate, 0, site, s->core.id(), 0, 0, 0, 0, 4);
      break;
    case ObjectKind::kBarrier:
      rt::emit_sync(t, Kind::kBarrierCreate, 0, site, s->core.id(), 0, 0, initial, 0, 4);
      break;
    case ObjectKind::kSem: {
      std::uint64_t payload[6] = {s->core.id(), 0, 0, initial, SEM_VALUE_MAX, 0};
      rt::emit(t, format::make_word0(Kind::kSemCreate, 0, 56, site), payload, 6);
      break;
    }
    default:
      break;
  }
  return s;
}

template <class Wait>
int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, const void* pc, bool timed, Wait wait) {
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  ObjectSlot* ms = t != nullptr ? find(m) : nullptr;  // the lock interposer's slot for m
  // A mutex never locked through us, or tracked silently (no thread created yet): nothing to record.
  if (ms == nullptr || !ms->announced) return wait();
  std::uint32_t site = caller_site(t, pc);
  ObjectSlot* cs = object_slot(t, c, ObjectKind::kCond, site);
  std::uint64_t cid = cs != nullptr ? cs->core.id() : 0;
  std::uint32_t depth = ms->depth;
  ms->depth = 0;
  int rc = detail::traced_cond_wait(t, cid, ms->core, site, timed, wait);
  ms->depth = depth == 0 ? 1 : depth;
  return rc;
}

void cond_notify(pthread_cond_t* c, const void* pc, bool all) {
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t == nullptr) return;
  std::uint32_t site = caller_site(t, pc);
  ObjectSlot* cs = object_slot(t, c, ObjectKind::kCond, site);
  if (cs == nullptr) return;
  rt::emit_sync(t, Kind::kCondNotify, all ? 1 : 0, site, cs->core.id(), cs->core.next_seq(), 0, 0, 0, 2);
}

}  // namespace
}  // namespace lockgraph::preload

using namespace lockgraph;
using namespace lockgraph::preload;

#define LG_EXPORT extern "C" __attribute__((visibility("default")))

// --- condition variables ----------------------------------------------------------------------

LG_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_wait(c, m);
  return cond_wait(c, m, __builtin_return_address(0), false, [&] { return r.cond_wait(c, m); });
}

LG_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const timespec* abstime) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_timedwait(c, m, abstime);
  return cond_wait(c, m, __builtin_return_address(0), true, [&] { return r.cond_timedwait(c, m, abstime); });
}

LG_EXPORT int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock, const timespec* abstime) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_clockwait(c, m, clock, abstime);
  return cond_wait(c, m, __builtin_return_address(0), true, [&] { return r.cond_clockwait(c, m, clock, abstime); });
}

LG_EXPORT int pthread_cond_signal(pthread_cond_t* c) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_signal(c);
  cond_notify(c, __builtin_return_address(0), false);
  return r.cond_signal(c);
}

LG_EXPORT int pthread_cond_broadcast(pthread_cond_t* c) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_broadcast(c);
  cond_notify(c, __builtin_return_address(0), true);
  return r.cond_broadcast(c);
}

LG_EXPORT int pthread_cond_init(pthread_cond_t* c, const pthread_condattr_t* a) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_init(c, a);
  rt::untraced_scope internal;
  (void)forget(c, nullptr);
  return r.cond_init(c, a);
}

LG_EXPORT int pthread_cond_destroy(pthread_cond_t* c) {
  const RealFunctions& r = real();
  if (passthrough()) return r.cond_destroy(c);
  rt::untraced_scope internal;
  (void)forget(c, nullptr);
  return r.cond_destroy(c);
}

// --- barriers ---------------------------------------------------------------------------------

LG_EXPORT int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t* a, unsigned count) {
  const RealFunctions& r = real();
  if (passthrough()) return r.barrier_init(b, a, count);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  (void)forget(b, nullptr);
  int rc = r.barrier_init(b, a, count);
  rt::ThreadState* t = recorder();
  if (rc == 0 && t != nullptr) {
    if (ObjectSlot* s = object_slot(t, b, ObjectKind::kBarrier, caller_site(t, pc), count)) s->barrier_count = count;
  }
  return rc;
}

LG_EXPORT int pthread_barrier_wait(pthread_barrier_t* b) {
  const RealFunctions& r = real();
  if (passthrough()) return r.barrier_wait(b);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  std::uint32_t site = t != nullptr ? caller_site(t, pc) : 0;
  ObjectSlot* s = t != nullptr ? object_slot(t, b, ObjectKind::kBarrier, site) : nullptr;
  if (s == nullptr) return r.barrier_wait(b);
  std::uint64_t arrival = s->arrivals.fetch_add(1, std::memory_order_acq_rel);
  std::uint64_t phase = s->barrier_count != 0 ? arrival / s->barrier_count : 0;
  rt::emit_sync(t, Kind::kBarrierArrive, 0, site, s->core.id(), s->core.next_seq(), 0, phase, 0, 4);
  rt::begin_wait(t, rt::WaitKind::kEvent, s->core.id(), 0, site);
  int rc = r.barrier_wait(b);
  rt::end_wait(t);
  rt::emit_sync(t, Kind::kBarrierDepart, 0, site, s->core.id(), s->core.next_seq(), 0, phase, 0, 4);
  return rc;
}

LG_EXPORT int pthread_barrier_destroy(pthread_barrier_t* b) {
  const RealFunctions& r = real();
  if (passthrough()) return r.barrier_destroy(b);
  rt::untraced_scope internal;
  (void)forget(b, nullptr);
  return r.barrier_destroy(b);
}

// --- POSIX semaphores -------------------------------------------------------------------------

namespace {

template <class Wait>
int sem_acquire(sem_t* sem, const void* pc, std::uint8_t flags, bool blocking, Wait wait) {
  const RealFunctions& r = real();
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  if (t == nullptr) return wait();
  std::uint32_t site = caller_site(t, pc);
  ObjectSlot* s = object_slot(t, sem, ObjectKind::kSem, site);
  if (s == nullptr) return wait();
  int rc = r.sem_trywait(sem);
  bool contended = false;
  if (rc != 0 && errno == EAGAIN && !(flags & format::kAcqTry)) {
    contended = true;
    rt::emit_sync(t, Kind::kSemRequest, flags, site, s->core.id(), 0, rt::now_ns(), 0, 0, 3);
    if (blocking) rt::begin_wait(t, rt::WaitKind::kSemaphore, s->core.id(), 0, site);
    rc = wait();
    int saved = errno;
    if (blocking) rt::end_wait(t);
    errno = saved;
  }
  if (rc != 0) {
    int saved = errno;
    rt::emit_sync(t, Kind::kSemFailed, flags, site, s->core.id(), 0, rt::now_ns(), 0, 0, 3);
    errno = saved;
    return rc;
  }
  std::uint64_t time = contended ? rt::now_ns() : 0;
  rt::emit_sync(t, Kind::kSemAcquired, flags | (contended ? format::kAcqContended : 0), site, s->core.id(),
                s->core.next_seq(), time, 0, 0, time ? 3 : 2);
  return 0;
}

}  // namespace

LG_EXPORT int sem_init(sem_t* sem, int pshared, unsigned value) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_init(sem, pshared, value);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  (void)forget(sem, nullptr);
  int rc = r.sem_init(sem, pshared, value);
  rt::ThreadState* t = recorder();
  if (rc == 0 && t != nullptr) (void)object_slot(t, sem, ObjectKind::kSem, caller_site(t, pc), value);
  return rc;
}

LG_EXPORT int sem_destroy(sem_t* sem) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_destroy(sem);
  rt::untraced_scope internal;
  (void)forget(sem, nullptr);
  return r.sem_destroy(sem);
}

LG_EXPORT int sem_post(sem_t* sem) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_post(sem);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  std::uint32_t site = t != nullptr ? caller_site(t, pc) : 0;
  ObjectSlot* s = t != nullptr ? object_slot(t, sem, ObjectKind::kSem, site) : nullptr;
  if (s != nullptr) rt::emit_sync(t, Kind::kSemRelease, 0, site, s->core.id(), s->core.next_seq(), 0, 1, 0, 4);
  return r.sem_post(sem);
}

LG_EXPORT int sem_wait(sem_t* sem) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_wait(sem);
  return sem_acquire(sem, __builtin_return_address(0), 0, true, [&] { return r.sem_wait(sem); });
}

LG_EXPORT int sem_trywait(sem_t* sem) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_trywait(sem);
  return sem_acquire(sem, __builtin_return_address(0), format::kAcqTry, false, [&] { return r.sem_trywait(sem); });
}

LG_EXPORT int sem_timedwait(sem_t* sem, const timespec* abstime) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_timedwait(sem, abstime);
  return sem_acquire(sem, __builtin_return_address(0), format::kAcqTimed, false,
                     [&] { return r.sem_timedwait(sem, abstime); });
}

LG_EXPORT int sem_clockwait(sem_t* sem, clockid_t clock, const timespec* abstime) {
  const RealFunctions& r = real();
  if (passthrough()) return r.sem_clockwait(sem, clock, abstime);
  return sem_acquire(sem, __builtin_return_address(0), format::kAcqTimed, false,
                     [&] { return r.sem_clockwait(sem, clock, abstime); });
}
