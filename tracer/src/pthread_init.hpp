// Internal: initialization of the pthread objects behind the wrappers (CLOCK_MONOTONIC condition
// variables; process-shared attributes for objects placed in shared memory).
#pragma once

#include <pthread.h>

namespace lockgraph::detail {

inline void init_mutex(pthread_mutex_t* m, bool process_shared) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  if (process_shared) pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(m, &a);
  pthread_mutexattr_destroy(&a);
}

inline void init_monotonic_cond(pthread_cond_t* cv, bool process_shared) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  if (process_shared) pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_cond_init(cv, &a);
  pthread_condattr_destroy(&a);
}

}  // namespace lockgraph::detail
