// malloc/free and friends: the end of a pthread object's identity when the block holding it is
// freed (object_table.hpp), and allocation records for instrumented programs (memory_records.hpp).
#include <malloc.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "../sequence_slots.hpp"
#include "memory_records.hpp"
#include "object_table.hpp"
#include "real.hpp"

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* __libc_memalign(std::size_t, std::size_t);
extern "C" void __libc_free(void*);

namespace lockgraph::preload {
namespace {

constexpr std::size_t kStackWindow = 64 * 1024;

std::atomic<bool> g_instrumented{false};
// Object ids of allocation slots: process-local, distinct from annotation and atomic slots.
constinit rt::SequenceSlots g_alloc_slots(format::kAnnotationTag | (std::uint64_t(2) << 32));

// The recording thread, or nullptr: never registers a thread from inside malloc.
rt::ThreadState* allocation_recorder() noexcept {
  if (!g_instrumented.load(std::memory_order_relaxed) || passthrough()) return nullptr;
  rt::ThreadState* t = rt::tls_state;
  return t != nullptr && !t->in_runtime ? t : nullptr;
}

void record_freed_lock(std::uint64_t id, std::uint32_t owner, void* ctx) {
  auto* t = static_cast<rt::ThreadState*>(ctx);
  if (t != nullptr) rt::emit_sync(t, format::Kind::kLockDestroy, 0, 0, id, 0, 0, owner, 0, 4);
}

void before_free(void* p) noexcept {
  if (p == nullptr) return;
  rt::ThreadState* t = allocation_recorder();
  bool objects = any_objects();
  if (t == nullptr && !objects) return;
  std::size_t n = malloc_usable_size(p);
  if (objects && may_hold_objects(p, n)) {
    rt::ThreadState* lock_recorder = passthrough() ? nullptr : rt::tls_state;
    rt::untraced_scope internal;
    forget_range(p, n, record_freed_lock, lock_recorder != nullptr && !lock_recorder->in_runtime ? lock_recorder : nullptr);
  }
  if (t != nullptr) record_free(p, n);
}

}  // namespace

void set_instrumented() noexcept { g_instrumented.store(true, std::memory_order_relaxed); }

namespace {

// A free releases the block's slot; an allocation observes it (memory_records.hpp).
void record_block(format::Kind kind, const void* p, std::size_t n) noexcept {
  rt::ThreadState* t = allocation_recorder();
  if (t == nullptr || p == nullptr) return;
  auto a = reinterpret_cast<std::uintptr_t>(p);
  rt::SequenceSlots::Ticket ticket =
      kind == format::Kind::kMemFree ? g_alloc_slots.release(a) : g_alloc_slots.observe(a);
  rt::untraced_scope internal;
  rt::emit_sync(t, kind, 0, 0, ticket.object, ticket.seq, 0, n, a, 5);
}

}  // namespace

void record_alloc(const void* p, std::size_t n) noexcept { record_block(format::Kind::kMemAlloc, p, n); }
void record_free(const void* p, std::size_t n) noexcept { record_block(format::Kind::kMemFree, p, n); }

StackRange current_stack() noexcept {
  if (!g_instrumented.load(std::memory_order_relaxed)) return {};
  rt::untraced_scope internal;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return {};
  void* low = nullptr;
  std::size_t size = 0;
  int rc = pthread_attr_getstack(&attr, &low, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0 || size == 0) return {};
  std::size_t window = size < kStackWindow ? size : kStackWindow;
  return StackRange{static_cast<char*>(low) + size - window, window};
}

}  // namespace lockgraph::preload

using namespace lockgraph::preload;

#define LG_EXPORT extern "C" __attribute__((visibility("default")))

LG_EXPORT void free(void* p) {
  before_free(p);
  __libc_free(p);
}

LG_EXPORT void* malloc(std::size_t n) {
  void* q = __libc_malloc(n);
  record_alloc(q, n);
  return q;
}

LG_EXPORT void* calloc(std::size_t count, std::size_t n) {
  void* q = __libc_calloc(count, n);
  record_alloc(q, count * n);
  return q;
}

LG_EXPORT void* realloc(void* p, std::size_t size) {
  if (p == nullptr) return malloc(size);
  if (size == 0) {
    free(p);
    return nullptr;
  }
  // The block may move: retire it first (its contents are copied, not reused in place).
  before_free(p);
  void* q = __libc_realloc(p, size);
  record_alloc(q, size);
  return q;
}

LG_EXPORT void* memalign(std::size_t alignment, std::size_t n) {
  void* q = __libc_memalign(alignment, n);
  record_alloc(q, n);
  return q;
}

LG_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t n) { return memalign(alignment, n); }

LG_EXPORT int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* q = memalign(alignment, n);
  if (q == nullptr) return ENOMEM;
  *out = q;
  return 0;
}
