// pthread_create/join/detach/setname_np of an unmodified program.
//
// A created thread starts in a trampoline that registers it under the id its creator reserved,
// so the create record names the child and the replay orders the child after it. Thread exit
// (return, pthread_exit, cancellation) is recorded by the runtime's thread-exit hook.
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>

#include "lockgraph/thread.hpp"
#include "memory_records.hpp"
#include "object_table.hpp"
#include "caller.hpp"
#include "real.hpp"

namespace lockgraph::preload {
namespace {

struct StartArgs {
  void* (*fn)(void*);
  void* arg;
  std::uint32_t parent;
  std::uint32_t child;
};

// pthread_t -> trace thread id, for join and detach. Only thread creation, join and detach touch
// it, all slow operations; the runtime's scope keeps this mutex out of the trace.
struct ThreadIds {
  std::mutex mu;
  std::unordered_map<pthread_t, std::uint32_t> ids;
};

ThreadIds& thread_ids() {
  static ThreadIds* t = new ThreadIds();  // never destroyed: threads may join during exit
  return *t;
}

std::uint32_t take_id(pthread_t th, bool erase) {
  ThreadIds& m = thread_ids();
  std::lock_guard<std::mutex> g(m.mu);
  auto it = m.ids.find(th);
  if (it == m.ids.end()) return 0;
  std::uint32_t id = it->second;
  if (erase) m.ids.erase(it);
  return id;
}

void* start_thread(void* p) {
  StartArgs a = *static_cast<StartArgs*>(p);
  {
    rt::untraced_scope internal;
    delete static_cast<StartArgs*>(p);
    if (a.child != 0) (void)rt::register_current_thread(a.parent, a.child);
  }
  // A new thread may run on the cached stack of one that ended: its bytes start afresh.
  StackRange stack = current_stack();
  record_alloc(stack.low, stack.size);
  void* result = a.fn(a.arg);
  record_free(stack.low, stack.size);
  return result;
}

}  // namespace
}  // namespace lockgraph::preload

using namespace lockgraph;
using namespace lockgraph::preload;

#define LG_EXPORT extern "C" __attribute__((visibility("default")))

LG_EXPORT int pthread_create(pthread_t* th, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  const RealFunctions& r = real();
  if (passthrough()) return r.create(th, attr, fn, arg);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  std::uint32_t child = 0;
  if (t != nullptr && !threaded()) {
    announce_silent_locks(t, caller_site(t, pc));
  }
  set_threaded();
  if (t != nullptr) {
    child = rt::reserve_tid();
    rt::emit_sync(t, format::Kind::kThreadCreate, 0, caller_site(t, pc), child, 0, 0, 0, 0, 2);
  }
  auto* a = new StartArgs{fn, arg, t != nullptr ? t->tid : 0, child};
  int rc = r.create(th, attr, start_thread, a);
  if (rc != 0) {
    delete a;
    return rc;
  }
  if (child != 0) {
    ThreadIds& m = thread_ids();
    std::lock_guard<std::mutex> g(m.mu);
    m.ids[*th] = child;
  }
  return rc;
}

LG_EXPORT int pthread_join(pthread_t th, void** result) {
  const RealFunctions& r = real();
  if (passthrough()) return r.join(th, result);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  std::uint32_t child = take_id(th, false);
  if (t == nullptr || child == 0) return r.join(th, result);
  std::uint32_t site = caller_site(t, pc);
  rt::begin_wait(t, rt::WaitKind::kJoin, child, child, site);
  int rc = r.join(th, result);
  rt::end_wait(t);
  if (rc == 0) {
    (void)take_id(th, true);
    rt::emit_sync(t, format::Kind::kThreadJoin, 0, site, child, 0, 0, 0, 0, 2);
  }
  return rc;
}

LG_EXPORT int pthread_detach(pthread_t th) {
  const RealFunctions& r = real();
  if (passthrough()) return r.detach(th);
  const void* pc = __builtin_return_address(0);
  rt::untraced_scope internal;
  rt::ThreadState* t = recorder();
  std::uint32_t child = take_id(th, true);
  int rc = r.detach(th);
  if (rc == 0 && t != nullptr && child != 0) {
    rt::emit_sync(t, format::Kind::kThreadDetach, 0, caller_site(t, pc), child, 0, 0, 0, 0, 2);
  }
  return rc;
}

LG_EXPORT int pthread_setname_np(pthread_t th, const char* name) {
  const RealFunctions& r = real();
  if (passthrough()) return r.setname(th, name);
  const void* pc = __builtin_return_address(0);
  int rc = r.setname(th, name);
  if (rc == 0 && pthread_equal(th, pthread_self())) {
    rt::untraced_scope internal;
    lockgraph::set_thread_name(name, source_site::from_pc(pc));
  }
  return rc;
}

// _exit() skips atexit handlers, and so the trace's trailer: a fork()ed child that ends with
// _exit (as it should) would look as if it had crashed. The trailer is written first.
LG_EXPORT void _exit(int status) {
  if (!passthrough()) {
    rt::untraced_scope internal;
    rt::shutdown();
  }
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

LG_EXPORT void _Exit(int status) { _exit(status); }
