// Our runtime for the compiler's ThreadSanitizer instrumentation (-fsanitize=thread without
// linking libtsan): the __tsan_* entry points that instrumented code calls, recording memory
// accesses and atomics into the lockgraph trace. The entry points and their signatures are the
// compiler ABI of LLVM's and GCC's ThreadSanitizer pass (compiler-rt tsan_interface.h and
// tsan_interface_atomic.h); the implementation is ours.
//
// Accesses go through the same redundancy filter as the wrappers' (one record per address and
// kind per synchronization-free stretch). Atomics: the operation itself is done here, sequentially
// consistent (never weaker than asked). Only the ones that synchronize are recorded: a release
// part takes the next sequence number of the address's slot *before* the store, an acquire part
// reads the slot *after* the load and asks the replay to apply every release up to it first. So
// whatever value a load observed, the release that wrote it is replayed before the load (and a
// spinning load that observes nothing new records nothing new). Relaxed atomics and fences
// create no happens-before here (docs/unmodified-programs.md lists this limit).
#include <atomic>
#include <cstdint>

#include "../preload/memory_records.hpp"
#include "../sequence_slots.hpp"
#include "lockgraph/runtime.hpp"

namespace lockgraph::instrument {
namespace {

using rt::ThreadState;

// Object ids of atomic slots: process-local (kAnnotationTag), distinct from annotation slots.
constinit rt::SequenceSlots g_atomic_slots(format::kAnnotationTag | (std::uint64_t(1) << 32));

thread_local constinit int tls_ignore = 0;  // __tsan_ignore_thread_begin/end

struct SeenEntry {
  std::uintptr_t address;
  std::uint64_t seq;  // the observation last recorded for it
};
thread_local constinit SeenEntry tls_seen[128] = {};

[[gnu::always_inline]] inline ThreadState* recorder() noexcept {
  if (tls_ignore != 0 || rt::tls_untraced != 0) return nullptr;
  return rt::recording_self();
}

// The rare cases of access(), out of line: a thread's first record (it registers), and a return
// address the thread's site cache does not hold yet. With them (and emit_access's own slow part)
// as tail calls, every __tsan_readN/writeN saves no registers on its common path.
[[gnu::noinline]] void access_unregistered(const volatile void* addr, std::uint32_t size, bool write, const void* pc) noexcept {
  ThreadState* t = recorder();
  if (t == nullptr) return;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  if (!rt::access_is_new(t, a, write)) return;
  rt::emit_access(t, a, size, write, rt::pc_site_id(t, pc));
}
[[gnu::noinline]] void access_new_site(ThreadState* t, std::uintptr_t a, std::uint32_t size, bool write, const void* pc) noexcept {
  rt::emit_access(t, a, size, write, rt::intern_pc_site(t, pc));
}

[[gnu::always_inline]] inline void access(const volatile void* addr, std::uint32_t size, bool write, const void* pc) noexcept {
  if (tls_ignore != 0 || rt::tls_untraced != 0) return;
  ThreadState* t = rt::tls_state;
  if (__builtin_expect(t == nullptr, 0)) return access_unregistered(addr, size, write, pc);
  if (t->in_runtime) return;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  if (!rt::access_is_new(t, a, write)) return;
  const std::uint32_t* site = rt::cached_pc_site(t, pc);
  if (__builtin_expect(site == nullptr, 0)) return access_new_site(t, a, size, write, pc);
  rt::emit_access(t, a, size, write, *site);
}

int order(int mo) noexcept {
  mo &= 7;  // GCC may add HLE or __sync bits above the memory model
  return mo > 5 ? 5 : mo;
}
bool releases(int mo) noexcept { return mo == 3 || mo == 4 || mo == 5; }
bool acquires(int mo) noexcept { return mo == 1 || mo == 2 || mo == 4 || mo == 5; }

void emit_atomic(ThreadState* t, std::uintptr_t a, std::uint32_t size, unsigned op, int mo,
                 rt::SequenceSlots::Ticket ticket, const void* pc) noexcept {
  std::uint8_t flags = std::uint8_t(op | (unsigned(mo) << format::kAtomicOrderShift));
  rt::emit_sync(t, format::Kind::kAtomic, flags, rt::pc_site_id(t, pc), ticket.object, ticket.seq, 0, size, a, 5);
}

// Before the operation: the release half.
void release_part(const volatile void* addr, std::uint32_t size, int mo, const void* pc) noexcept {
  if (!releases(mo)) return;
  ThreadState* t = recorder();
  if (t == nullptr) return;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  emit_atomic(t, a, size, format::kAtomicStore, mo, g_atomic_slots.release(a), pc);
}

// After the operation: the acquire half.
void acquire_part(const volatile void* addr, std::uint32_t size, int mo, const void* pc) noexcept {
  if (!acquires(mo)) return;
  ThreadState* t = recorder();
  if (t == nullptr) return;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  rt::SequenceSlots::Ticket ticket = g_atomic_slots.observe(a);
  SeenEntry& seen = tls_seen[(a >> 3) & 127];
  if (seen.address == a && seen.seq == ticket.seq) return;  // nothing released since we last looked
  seen = SeenEntry{a, ticket.seq};
  emit_atomic(t, a, size, format::kAtomicLoad, mo, ticket, pc);
}

// 128-bit atomics: no lock-free instruction is guaranteed, so a striped lock (every 128-bit atomic
// of an instrumented program comes through here).
std::atomic<bool> g_wide_locks[64];
struct WideLock {
  std::atomic<bool>& l;
  explicit WideLock(const volatile void* a) noexcept : l(g_wide_locks[(reinterpret_cast<std::uintptr_t>(a) >> 4) & 63]) {
    while (l.exchange(true, std::memory_order_acquire)) {
    }
  }
  ~WideLock() { l.store(false, std::memory_order_release); }
};

}  // namespace
}  // namespace lockgraph::instrument

using namespace lockgraph::instrument;

#define LG_EXPORT extern "C" __attribute__((visibility("default")))
#define LG_PC __builtin_return_address(0)

// Called by every instrumented module's constructor: from now on allocations are recorded.
LG_EXPORT void __tsan_init() {
  static const bool once = [] {
    lockgraph::rt::record_module_map();
    return true;
  }();
  (void)once;
  lockgraph::preload::set_instrumented();
}
LG_EXPORT void __tsan_func_entry(void*) {}
LG_EXPORT void __tsan_func_exit() {}
LG_EXPORT void __tsan_ignore_thread_begin() { ++tls_ignore; }
LG_EXPORT void __tsan_ignore_thread_end() { --tls_ignore; }

#define LG_ACCESS(N)                                                                                   \
  LG_EXPORT void __tsan_read##N(void* a) { access(a, N, false, LG_PC); }                              \
  LG_EXPORT void __tsan_write##N(void* a) { access(a, N, true, LG_PC); }                              \
  LG_EXPORT void __tsan_read##N##_pc(void* a, void* pc) { access(a, N, false, pc); }                  \
  LG_EXPORT void __tsan_write##N##_pc(void* a, void* pc) { access(a, N, true, pc); }                  \
  LG_EXPORT void __tsan_volatile_read##N(void* a) { access(a, N, false, LG_PC); }                     \
  LG_EXPORT void __tsan_volatile_write##N(void* a) { access(a, N, true, LG_PC); }
LG_ACCESS(1)
LG_ACCESS(2)
LG_ACCESS(4)
LG_ACCESS(8)
LG_ACCESS(16)

#define LG_UNALIGNED(N)                                                                                \
  LG_EXPORT void __tsan_unaligned_read##N(const void* a) { access(a, N, false, LG_PC); }              \
  LG_EXPORT void __tsan_unaligned_write##N(void* a) { access(a, N, true, LG_PC); }                    \
  LG_EXPORT void __tsan_unaligned_volatile_read##N(void* a) { access(a, N, false, LG_PC); }           \
  LG_EXPORT void __tsan_unaligned_volatile_write##N(void* a) { access(a, N, true, LG_PC); }
LG_UNALIGNED(2)
LG_UNALIGNED(4)
LG_UNALIGNED(8)
LG_UNALIGNED(16)

LG_EXPORT void __tsan_read_range(void* a, unsigned long size) { access(a, std::uint32_t(size), false, LG_PC); }
LG_EXPORT void __tsan_write_range(void* a, unsigned long size) { access(a, std::uint32_t(size), true, LG_PC); }
LG_EXPORT void __tsan_read_range_pc(void* a, unsigned long size, void* pc) { access(a, std::uint32_t(size), false, pc); }
LG_EXPORT void __tsan_write_range_pc(void* a, unsigned long size, void* pc) { access(a, std::uint32_t(size), true, pc); }

// A vtable pointer store is a write only when it changes the pointer: destructors re-store the
// same table, which is no race (as ThreadSanitizer treats it).
LG_EXPORT void __tsan_vptr_update(void** vptr_p, void* new_val) {
  if (*vptr_p != new_val) access(vptr_p, 8, true, LG_PC);
}
LG_EXPORT void __tsan_vptr_read(void** vptr_p) { access(vptr_p, 8, false, LG_PC); }

// Annotations (compiler-rt's public tsan_interface.h).
LG_EXPORT void __tsan_acquire(void* addr) { acquire_part(addr, 0, 2, LG_PC); }
LG_EXPORT void __tsan_release(void* addr) { release_part(addr, 0, 3, LG_PC); }

// --- atomics ------------------------------------------------------------------------------------

#define LG_ATOMICS(N, T)                                                                                         \
  LG_EXPORT T __tsan_atomic##N##_load(const volatile T* a, int mo) {                                             \
    T v = __atomic_load_n(a, __ATOMIC_SEQ_CST);                                                                  \
    acquire_part(a, N / 8, order(mo), LG_PC);                                                                    \
    return v;                                                                                                    \
  }                                                                                                              \
  LG_EXPORT void __tsan_atomic##N##_store(volatile T* a, T v, int mo) {                                          \
    release_part(a, N / 8, order(mo), LG_PC);                                                                    \
    __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                                                    \
  }                                                                                                              \
  LG_RMW(N, T, exchange, __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST))                                            \
  LG_RMW(N, T, fetch_add, __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST))                                            \
  LG_RMW(N, T, fetch_sub, __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST))                                            \
  LG_RMW(N, T, fetch_and, __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST))                                            \
  LG_RMW(N, T, fetch_or, __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST))                                              \
  LG_RMW(N, T, fetch_xor, __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST))                                            \
  LG_RMW(N, T, fetch_nand, __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST))                                          \
  LG_EXPORT int __tsan_atomic##N##_compare_exchange_strong(volatile T* a, T* c, T v, int mo, int fmo) {          \
    release_part(a, N / 8, order(mo), LG_PC);                                                                    \
    bool ok = __atomic_compare_exchange_n(a, c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                   \
    acquire_part(a, N / 8, ok ? order(mo) : order(fmo), LG_PC);                                                  \
    return ok;                                                                                                   \
  }                                                                                                              \
  LG_EXPORT int __tsan_atomic##N##_compare_exchange_weak(volatile T* a, T* c, T v, int mo, int fmo) {            \
    return __tsan_atomic##N##_compare_exchange_strong(a, c, v, mo, fmo);                                         \
  }                                                                                                              \
  LG_EXPORT T __tsan_atomic##N##_compare_exchange_val(volatile T* a, T c, T v, int mo, int fmo) {                \
    __tsan_atomic##N##_compare_exchange_strong(a, &c, v, mo, fmo);                                               \
    return c;                                                                                                    \
  }

#define LG_RMW(N, T, name, op)                                   \
  LG_EXPORT T __tsan_atomic##N##_##name(volatile T* a, T v, int mo) { \
    release_part(a, N / 8, order(mo), LG_PC);                    \
    T old = op;                                                  \
    acquire_part(a, N / 8, order(mo), LG_PC);                    \
    return old;                                                  \
  }

LG_ATOMICS(8, char)
LG_ATOMICS(16, short)
LG_ATOMICS(32, int)
LG_ATOMICS(64, long)

// 128-bit: the same protocol around a striped lock.
__extension__ typedef __int128 i128;  // __extension__: -Wpedantic knows no 128-bit integers
#define LG_WIDE_RMW(name, expr)                                                 \
  LG_EXPORT i128 __tsan_atomic128_##name(volatile i128* a, i128 v, int mo) {    \
    release_part(a, 16, order(mo), LG_PC);                                      \
    i128 old;                                                                   \
    {                                                                           \
      WideLock lock(a);                                                         \
      old = *a;                                                                 \
      *a = expr;                                                                \
    }                                                                           \
    acquire_part(a, 16, order(mo), LG_PC);                                      \
    return old;                                                                 \
  }
LG_EXPORT i128 __tsan_atomic128_load(const volatile i128* a, int mo) {
  i128 v;
  {
    WideLock lock(a);
    v = *a;
  }
  acquire_part(a, 16, order(mo), LG_PC);
  return v;
}
LG_EXPORT void __tsan_atomic128_store(volatile i128* a, i128 v, int mo) {
  release_part(a, 16, order(mo), LG_PC);
  WideLock lock(a);
  *a = v;
}
LG_WIDE_RMW(exchange, v)
LG_WIDE_RMW(fetch_add, old + v)
LG_WIDE_RMW(fetch_sub, old - v)
LG_WIDE_RMW(fetch_and, old & v)
LG_WIDE_RMW(fetch_or, old | v)
LG_WIDE_RMW(fetch_xor, old ^ v)
LG_WIDE_RMW(fetch_nand, ~(old & v))
LG_EXPORT int __tsan_atomic128_compare_exchange_strong(volatile i128* a, i128* c, i128 v, int mo, int fmo) {
  release_part(a, 16, order(mo), LG_PC);
  bool ok;
  {
    WideLock lock(a);
    ok = *a == *c;
    if (ok) {
      *a = v;
    } else {
      *c = *a;
    }
  }
  acquire_part(a, 16, ok ? order(mo) : order(fmo), LG_PC);
  return ok;
}
LG_EXPORT int __tsan_atomic128_compare_exchange_weak(volatile i128* a, i128* c, i128 v, int mo, int fmo) {
  return __tsan_atomic128_compare_exchange_strong(a, c, v, mo, fmo);
}
LG_EXPORT i128 __tsan_atomic128_compare_exchange_val(volatile i128* a, i128 c, i128 v, int mo, int fmo) {
  __tsan_atomic128_compare_exchange_strong(a, &c, v, mo, fmo);
  return c;
}

// Fences order relaxed atomics, which are not recorded; nothing to do.
LG_EXPORT void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
LG_EXPORT void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
