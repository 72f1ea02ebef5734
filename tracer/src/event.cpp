// lockgraph::event: the flag lives under an internal mutex; set/clear/wait-success bump the
// event's sequence number under that mutex, so their order in the trace is exact.
#include "lockgraph/event.hpp"

#include "pthread_init.hpp"

namespace lockgraph {

void event::init(bool process_shared, const char* name, const detail::creation_point& at) noexcept {
  detail::init_mutex(&mu_, process_shared);
  detail::init_monotonic_cond(&cv_, process_shared);
  id_ = rt::new_object_id(process_shared);
  if (rt::ThreadState* t = rt::recording_self()) {
    std::uint32_t name_id = name ? rt::intern_string(t, name) : 0;
    rt::emit_sync(t, format::Kind::kEventCreate, 0, rt::creation_site_id(t, at), id_, 0, 0, name_id, 0, 4);
  }
}

event::~event() {
  pthread_cond_destroy(&cv_);
  pthread_mutex_destroy(&mu_);
}

void event::set(source_site where) noexcept {
  pthread_mutex_lock(&mu_);
  std::uint64_t seq = ++seq_;
  flag_ = true;
  pthread_cond_broadcast(&cv_);
  pthread_mutex_unlock(&mu_);
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kEventSet, 0, rt::site_id(t, where), id_, seq, 0, 0, 0, 2);
  }
}

void event::clear(source_site where) noexcept {
  pthread_mutex_lock(&mu_);
  std::uint64_t seq = ++seq_;
  flag_ = false;
  pthread_mutex_unlock(&mu_);
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kEventClear, 0, rt::site_id(t, where), id_, seq, 0, 0, 0, 2);
  }
}

bool event::is_set() noexcept {
  pthread_mutex_lock(&mu_);
  bool f = flag_;
  pthread_mutex_unlock(&mu_);
  return f;
}

bool event::wait_until_ns(std::uint64_t deadline, const source_site& where) noexcept {
  rt::ThreadState* t = rt::recording_self();
  std::uint32_t site = t ? rt::site_id(t, where) : 0;
  if (t != nullptr) {
    rt::emit_sync(t, format::Kind::kEventWaitBegin, 0, site, id_, 0, rt::now_ns(),
                  deadline == detail::kNoDeadline ? ~std::uint64_t(0) : deadline, 0, 4);
  }
  pthread_mutex_lock(&mu_);
  bool waiting = !flag_ && deadline == detail::kNoDeadline && t != nullptr;
  if (waiting) rt::begin_wait(t, rt::WaitKind::kEvent, id_, 0, site);
  while (!flag_) {
    if (deadline == detail::kNoDeadline) {
      pthread_cond_wait(&cv_, &mu_);
      continue;
    }
    timespec ts = detail::to_timespec(deadline);
    if (pthread_cond_timedwait(&cv_, &mu_, &ts) == ETIMEDOUT) break;
  }
  bool result = flag_;
  // A successful wait takes a sequence number too: it orders after the set that raised the flag.
  std::uint64_t seq = result ? ++seq_ : 0;
  pthread_mutex_unlock(&mu_);
  if (waiting) rt::end_wait(t);
  if (t != nullptr) {
    rt::emit_sync(t, format::Kind::kEventWaitEnd, result ? 1 : 0, site, id_, seq, rt::now_ns(), 0, 0, 3);
  }
  return result;
}

}  // namespace lockgraph
