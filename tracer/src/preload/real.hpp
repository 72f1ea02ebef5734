// The libc functions the preload interposes, looked up once with dlsym(RTLD_NEXT) (dlvsym for the
// condition-variable calls, whose unversioned lookup can return the pre-2.3.2 ABI).
//
// Contract: real() is usable from the first interposed call on, even one made by another
// library's constructor before ours ran. Every interposer begins with `if (passthrough()) return
// real().x(...)` so that the runtime's own locks and threads, and calls made while the runtime
// works for a thread, never reach the trace. Cost: one TLS load per call.
#pragma once

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "lockgraph/runtime.hpp"

namespace lockgraph::preload {

struct RealFunctions {
  int (*mutex_init)(pthread_mutex_t*, const pthread_mutexattr_t*);
  int (*mutex_destroy)(pthread_mutex_t*);
  int (*mutex_lock)(pthread_mutex_t*);
  int (*mutex_trylock)(pthread_mutex_t*);
  int (*mutex_timedlock)(pthread_mutex_t*, const timespec*);
  int (*mutex_unlock)(pthread_mutex_t*);
  int (*rwlock_init)(pthread_rwlock_t*, const pthread_rwlockattr_t*);
  int (*rwlock_destroy)(pthread_rwlock_t*);
  int (*rwlock_rdlock)(pthread_rwlock_t*);
  int (*rwlock_tryrdlock)(pthread_rwlock_t*);
  int (*rwlock_timedrdlock)(pthread_rwlock_t*, const timespec*);
  int (*rwlock_wrlock)(pthread_rwlock_t*);
  int (*rwlock_trywrlock)(pthread_rwlock_t*);
  int (*rwlock_timedwrlock)(pthread_rwlock_t*, const timespec*);
  int (*rwlock_unlock)(pthread_rwlock_t*);
  int (*spin_init)(pthread_spinlock_t*, int);
  int (*spin_destroy)(pthread_spinlock_t*);
  int (*spin_lock)(pthread_spinlock_t*);
  int (*spin_trylock)(pthread_spinlock_t*);
  int (*spin_unlock)(pthread_spinlock_t*);
  int (*cond_init)(pthread_cond_t*, const pthread_condattr_t*);
  int (*cond_destroy)(pthread_cond_t*);
  int (*cond_wait)(pthread_cond_t*, pthread_mutex_t*);
  int (*cond_timedwait)(pthread_cond_t*, pthread_mutex_t*, const timespec*);
  int (*cond_clockwait)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const timespec*);
  int (*cond_signal)(pthread_cond_t*);
  int (*cond_broadcast)(pthread_cond_t*);
  int (*barrier_init)(pthread_barrier_t*, const pthread_barrierattr_t*, unsigned);
  int (*barrier_destroy)(pthread_barrier_t*);
  int (*barrier_wait)(pthread_barrier_t*);
  int (*sem_init)(sem_t*, int, unsigned);
  int (*sem_destroy)(sem_t*);
  int (*sem_wait)(sem_t*);
  int (*sem_trywait)(sem_t*);
  int (*sem_timedwait)(sem_t*, const timespec*);
  int (*sem_clockwait)(sem_t*, clockid_t, const timespec*);
  int (*sem_post)(sem_t*);
  int (*create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  int (*join)(pthread_t, void**);
  int (*detach)(pthread_t);
  int (*setname)(pthread_t, const char*);
};

extern RealFunctions g_real;
extern bool g_real_ready;
void resolve_real() noexcept;  // slow path: the first interposed call before our constructor ran

inline const RealFunctions& real() noexcept {
  if (__builtin_expect(!g_real_ready, 0)) resolve_real();
  return g_real;
}

inline bool passthrough() noexcept { return rt::tls_untraced != 0; }

// The calling thread's recording state, or nullptr when this call must not be recorded. Call
// inside an rt::untraced_scope: registering a new thread takes the runtime's own locks.
inline rt::ThreadState* recorder() noexcept { return rt::recording_self(); }

}  // namespace lockgraph::preload
