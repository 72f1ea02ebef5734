// The preload's address-keyed table of the pthread objects an unmodified program uses.
//
// A pthread_mutex_t belongs to the program, so its recording state (trace id, per-object
// sequence, owner, recursion depth) lives here, keyed by the object's address. The first use of an
// address creates its entry and a trace id; pthread_*_destroy and free() of the memory holding it
// forget the entry, so a new object at a reused address gets a new id (lock identity survives
// address reuse, and two unrelated locks at one address never merge into a false cycle).
//
// Contract: find() is lock-free and safe from any thread. Creation and forgetting take one of 256
// striped spin locks (first use and destruction only). Capacity is 2^21 live objects; the table
// is reserved, not committed, so only the pages in use cost memory (64 bytes an object).
// Cost of find(): one hash and usually one cache line.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lockgraph/detail/lock_core.hpp"

namespace lockgraph::preload {

enum class ObjectKind : std::uint8_t { kMutex, kRwlock, kSpin, kCond, kBarrier, kSem };

struct alignas(64) ObjectSlot {
  std::atomic<std::uintptr_t> key{0};  // the object's address; 0 empty, 1 forgotten, 2 being created
  detail::lock_core core;              // id, sequence and owner (owner for locks only)
  std::uint32_t depth = 0;             // recursion depth of the exclusive owner (owner only)
  std::uint32_t barrier_count = 0;     // threads per barrier phase (pthread_barrier_init)
  std::atomic<std::uint64_t> arrivals{0};  // barrier arrivals so far: phase = arrivals / count
  ObjectKind kind = ObjectKind::kMutex;
  std::uint8_t lock_type = 0;          // format::LockType
  std::uint32_t generation = 0;        // fork_generation() when the slot's id was announced
  bool announced = false;              // its create record is in the trace
  const void* silent_pc = nullptr;     // where the only thread took it, unrecorded (see threaded())
};

// False until the program creates its first thread: until then mutexes are tracked without
// records (a single thread can neither race nor deadlock with another), so programs that never
// create a thread pay one table lookup per lock operation.
bool threaded() noexcept;
void set_threaded() noexcept;
// Writes the create and acquire records of the mutexes the only thread holds (interpose_locks.cpp);
// called just before the first thread is created.
void announce_silent_locks(rt::ThreadState* t, std::uint32_t site) noexcept;

// Bumped in every fork()ed child: a lock inherited from the parent is announced again (new id,
// create record in the child's own trace) at its first use in the child.
std::uint32_t fork_generation() noexcept;  // inline, below
// The trace thread id, in the parent, of the thread that called fork() (0 when none).
std::uint32_t forking_thread() noexcept;

// The table's internals that the inline lookups below need (object_table.cpp owns them).
namespace table_internal {
inline constexpr std::size_t kCapacityBits = 21;
inline constexpr std::size_t kCapacity = std::size_t(1) << kCapacityBits;
inline constexpr std::uintptr_t kEmpty = 0;
extern std::atomic<ObjectSlot*> g_table;  // set by the first find_or_create
extern std::atomic<std::uint32_t> g_generation;

inline std::size_t home(std::uintptr_t a) noexcept {
  return std::size_t(((a >> 3) * 0x9E3779B97F4A7C15ull) >> (64 - kCapacityBits));
}

inline ObjectSlot* probe(ObjectSlot* t, std::uintptr_t a) noexcept {
  for (std::size_t i = home(a), n = 0; n < kCapacity; i = (i + 1) & (kCapacity - 1), ++n) {
    std::uintptr_t k = t[i].key.load(std::memory_order_acquire);
    if (k == a) return &t[i];
    if (k == kEmpty) return nullptr;
  }
  return nullptr;
}
}  // namespace table_internal

inline std::uint32_t fork_generation() noexcept {
  return table_internal::g_generation.load(std::memory_order_relaxed);
}

// Returns the live slot for `addr`, or nullptr. Inline: every interposed lock operation starts here.
inline ObjectSlot* find(const void* addr) noexcept {
  ObjectSlot* t = table_internal::g_table.load(std::memory_order_acquire);
  return t == nullptr ? nullptr : table_internal::probe(t, reinterpret_cast<std::uintptr_t>(addr));
}

// Asks for the cache line of `addr`'s home slot in the exclusive state, ahead of a lookup that
// goes on to write the slot (a lock's owner and sequence): a lock that moves between cores moves
// its slot with it, and a plain read would fetch the line shared, then need a second round trip
// to write it. A hint only (a no-op where the instruction is absent).
inline void prefetch_slot_for_write(const void* addr) noexcept {
#if defined(__x86_64__)
  ObjectSlot* t = table_internal::g_table.load(std::memory_order_relaxed);
  if (t != nullptr) asm volatile("prefetchw %0" : : "m"(t[table_internal::home(reinterpret_cast<std::uintptr_t>(addr))]));
#else
  (void)addr;
#endif
}

// Returns the slot for `addr`, creating it when absent (*created tells). nullptr when full.
ObjectSlot* find_or_create(const void* addr, ObjectKind kind, bool* created) noexcept;

// Forgets the slot of `addr` (pthread_*_destroy). Returns the forgotten slot's id, 0 if none.
std::uint64_t forget(const void* addr, std::uint32_t* owner) noexcept;

// True when some object may live in [p, p+n): a cheap filter for free().
bool may_hold_objects(const void* p, std::size_t n) noexcept;

}  // namespace lockgraph::preload

namespace lockgraph::preload {

// True once any object was created: free() skips all checks before that.
bool any_objects() noexcept;

// Forgets every object inside [p, p+n) (the block is being freed) and calls
// `on_forget(id, owner, ctx)` for each, so a freed, still-held lock is reported.
void forget_range(const void* p, std::size_t n, void (*on_forget)(std::uint64_t id, std::uint32_t owner, void* ctx),
                  void* ctx) noexcept;

}  // namespace lockgraph::preload
