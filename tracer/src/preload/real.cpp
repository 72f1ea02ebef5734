// Resolution of the interposed libc functions; see real.hpp.
#include "real.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace lockgraph::preload {
namespace {

template <class F>
void resolve(F*& slot, const char* name, const char* version = nullptr) {
  void* f = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (f == nullptr) f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "lockgraph: cannot find %s in libc; the preload cannot work\n", name);
    std::abort();
  }
  slot = reinterpret_cast<F*>(f);
}

RealFunctions lookup() {
  rt::untraced_scope internal;
  RealFunctions r{};
  resolve(r.mutex_init, "pthread_mutex_init");
  resolve(r.mutex_destroy, "pthread_mutex_destroy");
  resolve(r.mutex_lock, "pthread_mutex_lock");
  resolve(r.mutex_trylock, "pthread_mutex_trylock");
  resolve(r.mutex_timedlock, "pthread_mutex_timedlock");
  resolve(r.mutex_unlock, "pthread_mutex_unlock");
  resolve(r.rwlock_init, "pthread_rwlock_init");
  resolve(r.rwlock_destroy, "pthread_rwlock_destroy");
  resolve(r.rwlock_rdlock, "pthread_rwlock_rdlock");
  resolve(r.rwlock_tryrdlock, "pthread_rwlock_tryrdlock");
  resolve(r.rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
  resolve(r.rwlock_wrlock, "pthread_rwlock_wrlock");
  resolve(r.rwlock_trywrlock, "pthread_rwlock_trywrlock");
  resolve(r.rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
  resolve(r.rwlock_unlock, "pthread_rwlock_unlock");
  resolve(r.spin_init, "pthread_spin_init");
  resolve(r.spin_destroy, "pthread_spin_destroy");
  resolve(r.spin_lock, "pthread_spin_lock");
  resolve(r.spin_trylock, "pthread_spin_trylock");
  resolve(r.spin_unlock, "pthread_spin_unlock");
  resolve(r.cond_init, "pthread_cond_init", "GLIBC_2.3.2");
  resolve(r.cond_destroy, "pthread_cond_destroy", "GLIBC_2.3.2");
  resolve(r.cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
  resolve(r.cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
  resolve(r.cond_clockwait, "pthread_cond_clockwait");
  resolve(r.cond_signal, "pthread_cond_signal", "GLIBC_2.3.2");
  resolve(r.cond_broadcast, "pthread_cond_broadcast", "GLIBC_2.3.2");
  resolve(r.barrier_init, "pthread_barrier_init");
  resolve(r.barrier_destroy, "pthread_barrier_destroy");
  resolve(r.barrier_wait, "pthread_barrier_wait");
  resolve(r.sem_init, "sem_init");
  resolve(r.sem_destroy, "sem_destroy");
  resolve(r.sem_wait, "sem_wait");
  resolve(r.sem_trywait, "sem_trywait");
  resolve(r.sem_timedwait, "sem_timedwait");
  resolve(r.sem_clockwait, "sem_clockwait");
  resolve(r.sem_post, "sem_post");
  resolve(r.create, "pthread_create");
  resolve(r.join, "pthread_join");
  resolve(r.detach, "pthread_detach");
  resolve(r.setname, "pthread_setname_np");
  return r;
}

}  // namespace

RealFunctions g_real{};
bool g_real_ready = false;

void resolve_real() noexcept {
  // Thread-safe once; later calls find g_real_ready set. dlsym takes no lock we interpose.
  static const bool done = [] {
    g_real = lookup();
    __atomic_store_n(&g_real_ready, true, __ATOMIC_RELEASE);
    return true;
  }();
  (void)done;
}

// Resolve before the program's own constructors run.
__attribute__((constructor(101))) static void resolve_early() { resolve_real(); }

}  // namespace lockgraph::preload
