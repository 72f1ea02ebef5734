// lockgraph::condition_variable: waits go through the traced mutex's core so the release before
// sleeping and the re-acquisition after waking are ordinary lock records.
#include "lockgraph/condition_variable.hpp"

#include <system_error>

#include "pthread_init.hpp"

namespace lockgraph {

void condition_variable::init(const char* name, const detail::creation_point& at) noexcept {
  detail::init_monotonic_cond(&cv_, false);
  id_ = rt::new_object_id();
  if (rt::ThreadState* t = rt::recording_self()) {
    std::uint32_t name_id = name ? rt::intern_string(t, name) : 0;
    rt::emit_sync(t, format::Kind::kCondCreate, 0, rt::creation_site_id(t, at), id_, 0, 0, name_id, 0, 4);
  }
}

condition_variable::~condition_variable() { pthread_cond_destroy(&cv_); }

void condition_variable::notify_one(source_site where) noexcept {
  std::uint64_t seq = seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
  pthread_cond_signal(&cv_);
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kCondNotify, 0, rt::site_id(t, where), id_, seq, 0, 0, 0, 2);
  }
}

void condition_variable::notify_all(source_site where) noexcept {
  std::uint64_t seq = seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
  pthread_cond_broadcast(&cv_);
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kCondNotify, 1, rt::site_id(t, where), id_, seq, 0, 0, 0, 2);
  }
}

std::cv_status condition_variable::wait_ns(std::unique_lock<mutex>& lk, std::uint64_t deadline,
                                           const source_site& where) {
  if (!lk.owns_lock()) std::__throw_system_error(int(std::errc::operation_not_permitted));
  mutex& m = *lk.mutex();
  auto wait = [&] {
    if (deadline == detail::kNoDeadline) return pthread_cond_wait(&cv_, m.native_handle());
    timespec ts = detail::to_timespec(deadline);
    return pthread_cond_timedwait(&cv_, m.native_handle(), &ts);
  };
  rt::ThreadState* t = rt::recording_self();
  int rc = t == nullptr ? wait()
                        : detail::traced_cond_wait(t, id_, m.core(), rt::site_id(t, where),
                                                   deadline != detail::kNoDeadline, wait);
  return rc == ETIMEDOUT ? std::cv_status::timeout : std::cv_status::no_timeout;
}

}  // namespace lockgraph
