// counting_semaphore's recording core. The sequence number is bumped under the semaphore's own
// internal mutex, at the moment the count changes, so the trace's per-semaphore order is exact.
#include "lockgraph/semaphore.hpp"

#include "pthread_init.hpp"

namespace lockgraph::detail {

semaphore_core::semaphore_core(std::ptrdiff_t initial, std::ptrdiff_t max, const char* name,
                               const creation_point& at, bool process_shared) noexcept
    : count_(initial) {
  init_mutex(&mu_, process_shared);
  init_monotonic_cond(&cv_, process_shared);
  id_ = rt::new_object_id(process_shared);
  if (rt::ThreadState* t = rt::recording_self()) {
    std::uint32_t name_id = name ? rt::intern_string(t, name) : 0;
    std::uint64_t payload[6] = {id_, 0, 0, std::uint64_t(initial), std::uint64_t(max), name_id};
    rt::emit(t, format::make_word0(format::Kind::kSemCreate, 0, 56, rt::creation_site_id(t, at)), payload, 6);
  }
}

semaphore_core::~semaphore_core() {
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kSemDestroy, 0, 0, id_, 0, 0, 0, 0, 2);
  }
  pthread_cond_destroy(&cv_);
  pthread_mutex_destroy(&mu_);
}

void semaphore_core::release(std::ptrdiff_t update, const source_site& where) noexcept {
  pthread_mutex_lock(&mu_);
  std::uint64_t seq = ++seq_;
  count_ += update;
  std::ptrdiff_t after = count_;
  pthread_mutex_unlock(&mu_);
  if (update == 1) {
    pthread_cond_signal(&cv_);
  } else {
    pthread_cond_broadcast(&cv_);
  }
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kSemRelease, 0, rt::site_id(t, where), id_, seq, 0, std::uint64_t(update),
                  std::uint64_t(after), 5);
  }
}

bool semaphore_core::acquire(std::uint64_t deadline, std::uint8_t flags, const source_site& where) noexcept {
  rt::ThreadState* t = rt::recording_self();
  std::uint32_t site = t ? rt::site_id(t, where) : 0;
  pthread_mutex_lock(&mu_);
  bool contended = count_ <= 0;
  std::uint64_t requested = 0;
  if (contended && t != nullptr && deadline != 0) {
    requested = rt::now_ns();
    rt::emit_sync(t, format::Kind::kSemRequest, flags, site, id_, 0, requested, 0, 0, 3);
    if (deadline == kNoDeadline) rt::begin_wait(t, rt::WaitKind::kSemaphore, id_, 0, site);
  }
  while (count_ <= 0) {
    if (deadline == kNoDeadline) {
      pthread_cond_wait(&cv_, &mu_);
      continue;
    }
    timespec ts = to_timespec(deadline);
    if (rt::now_ns() >= deadline || pthread_cond_timedwait(&cv_, &mu_, &ts) == ETIMEDOUT) {
      if (count_ > 0) break;
      pthread_mutex_unlock(&mu_);
      if (t != nullptr) rt::emit_sync(t, format::Kind::kSemFailed, flags, site, id_, 0, rt::now_ns(), 0, 0, 3);
      return false;
    }
  }
  --count_;
  std::uint64_t seq = ++seq_;
  pthread_mutex_unlock(&mu_);
  if (t != nullptr) {
    if (contended && deadline == kNoDeadline) rt::end_wait(t);
    std::uint64_t time = requested ? rt::now_ns() : 0;
    rt::emit_sync(t, format::Kind::kSemAcquired, flags | (contended ? format::kAcqContended : 0), site, id_, seq,
                  time, 0, 0, time ? 3 : 2);
  }
  return true;
}

std::ptrdiff_t semaphore_core::value() noexcept {
  pthread_mutex_lock(&mu_);
  std::ptrdiff_t v = count_;
  pthread_mutex_unlock(&mu_);
  return v;
}

}  // namespace lockgraph::detail
