// lockgraph::thread's records. Join blocks inside begin_wait/end_wait so the watchdog sees a thread
// stuck joining another that never ends.
#include "lockgraph/thread.hpp"

#include <cstdio>
#include <mutex>
#include <system_error>

#include "process_trace.hpp"

namespace lockgraph::detail {

std::uint32_t record_thread_create(const source_site& where) noexcept {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr) return 0;
  std::uint32_t child = rt::reserve_tid();
  rt::emit_sync(t, format::Kind::kThreadCreate, 0, rt::site_id(t, where), child, 0, 0, 0, 0, 2);
  return child;
}

void record_thread_start(std::uint32_t parent, std::uint32_t child) noexcept {
  if (child == 0) return;  // tracing disabled when the thread was created
  (void)rt::register_current_thread(parent, child);
}

void record_thread_end() noexcept {
  if (rt::ThreadState* t = rt::recording_self()) rt::thread_exiting(t);
}

void record_thread_join(std::uint32_t child, const source_site& where, std::thread& th) {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr || !th.joinable()) {
    th.join();  // throws as std::thread::join does
    return;
  }
  std::uint32_t site = rt::site_id(t, where);
  rt::begin_wait(t, rt::WaitKind::kJoin, child, child, site);
  th.join();
  rt::end_wait(t);
  rt::emit_sync(t, format::Kind::kThreadJoin, 0, site, child, 0, 0, 0, 0, 2);
}

void record_thread_detach(std::uint32_t child, const source_site& where) noexcept {
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, format::Kind::kThreadDetach, 0, rt::site_id(t, where), child, 0, 0, 0, 0, 2);
  }
}

}  // namespace lockgraph::detail

namespace lockgraph {

void set_thread_name(const char* name, source_site where) noexcept {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr || name == nullptr) return;
  rt::untraced_scope internal;
  std::uint32_t id = rt::intern_string(t, name);
  {
    // The watchdog copies the name under the registry lock; take it too.
    std::lock_guard<std::mutex> g(rt::internal::process().registry_mu);
    std::snprintf(t->name, sizeof t->name, "%s", name);
  }
  rt::emit_sync(t, format::Kind::kThreadName, 0, rt::site_id(t, where), 0, 0, 0, id, 0, 4);
}

}  // namespace lockgraph
