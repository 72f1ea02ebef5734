// Open addressing with linear probing over a reserved mapping; see object_table.hpp.
#include "object_table.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <new>

namespace lockgraph::preload {
namespace {

using table_internal::g_generation;
using table_internal::home;
using table_internal::kCapacity;
using table_internal::kEmpty;
using table_internal::probe;
constexpr std::uintptr_t kForgotten = 1;
constexpr std::uintptr_t kClaimed = 2;  // being filled by a creator; lookups probe past it
constexpr std::size_t kStripes = 256;
constexpr std::size_t kPageFilterBits = std::size_t(1) << 20;  // one bit per hashed 4 KiB page

ObjectSlot* table() noexcept {
  // MAP_NORESERVE: 128 MiB of address space, committed page by page as slots are touched.
  static ObjectSlot* t = [] {
    void* m = mmap(nullptr, kCapacity * sizeof(ObjectSlot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ObjectSlot* table = m == MAP_FAILED ? nullptr : static_cast<ObjectSlot*>(m);
    table_internal::g_table.store(table, std::memory_order_release);
    return table;
  }();
  return t;
}

std::atomic<bool> g_stripes[kStripes];
std::atomic<bool> g_any_objects{false};
std::atomic<std::uint64_t> g_page_filter[kPageFilterBits / 64];

std::size_t page_bit(std::uintptr_t a) noexcept {
  return std::size_t(((a >> 12) * 0xC2B2AE3D27D4EB4Full) >> (64 - 20));
}

struct StripeLock {
  std::atomic<bool>& s;
  explicit StripeLock(std::uintptr_t a) noexcept : s(g_stripes[home(a) % kStripes]) {
    while (s.exchange(true, std::memory_order_acquire)) sched_yield();
  }
  ~StripeLock() { s.store(false, std::memory_order_release); }
};

}  // namespace

std::atomic<ObjectSlot*> table_internal::g_table{nullptr};
std::atomic<std::uint32_t> table_internal::g_generation{0};

ObjectSlot* find_or_create(const void* addr, ObjectKind kind, bool* created) noexcept {
  *created = false;
  ObjectSlot* t = table();
  if (t == nullptr) return nullptr;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  if (ObjectSlot* s = probe(t, a)) return s;
  // Every creation of one address takes the same stripe, so an address is never inserted twice;
  // other addresses may race for the same free slot, which the compare-exchange settles.
  StripeLock lock(a);
  if (ObjectSlot* s = probe(t, a)) return s;
  for (std::size_t i = home(a), n = 0; n < kCapacity * 3 / 4; i = (i + 1) & (kCapacity - 1), ++n) {
    std::uintptr_t k = t[i].key.load(std::memory_order_acquire);
    if (k != kEmpty && k != kForgotten) continue;
    // Claim the slot so no other creator (of another address) writes it, fill it, then publish
    // its key.
    ObjectSlot* s = &t[i];
    if (!s->key.compare_exchange_strong(k, kClaimed, std::memory_order_acq_rel)) continue;
    s->core.~lock_core();
    new (&s->core) detail::lock_core();
    s->depth = 0;
    s->barrier_count = 0;
    s->arrivals.store(0, std::memory_order_relaxed);
    s->kind = kind;
    s->lock_type = 0;
    s->generation = fork_generation();
    s->announced = false;
    s->silent_pc = nullptr;
    g_page_filter[page_bit(a) / 64].fetch_or(std::uint64_t(1) << (page_bit(a) % 64), std::memory_order_relaxed);
    s->key.store(a, std::memory_order_release);
    g_any_objects.store(true, std::memory_order_relaxed);
    *created = true;
    return s;
  }
  return nullptr;  // three quarters full: the object goes untraced (see docs/unmodified-programs.md)
}

std::uint64_t forget(const void* addr, std::uint32_t* owner) noexcept {
  ObjectSlot* t = table();
  if (t == nullptr) return 0;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  StripeLock lock(a);
  ObjectSlot* s = probe(t, a);
  if (s == nullptr) return 0;
  std::uint64_t id = s->core.id();
  if (owner != nullptr) *owner = s->core.owner();
  s->key.store(kForgotten, std::memory_order_release);
  return id;
}

namespace {
std::uint32_t g_forking_tid = 0;

void before_fork() {
  rt::ThreadState* t = rt::tls_state;
  g_forking_tid = t != nullptr ? t->tid : 0;
}
void in_child() { g_generation.fetch_add(1, std::memory_order_relaxed); }

__attribute__((constructor)) void register_fork_handlers() { pthread_atfork(before_fork, nullptr, in_child); }
}  // namespace

std::atomic<bool> g_threaded{false};
bool threaded() noexcept { return g_threaded.load(std::memory_order_relaxed); }
void set_threaded() noexcept { g_threaded.store(true, std::memory_order_relaxed); }

std::uint32_t forking_thread() noexcept { return g_forking_tid; }

bool any_objects() noexcept { return g_any_objects.load(std::memory_order_relaxed); }

void forget_range(const void* p, std::size_t n, void (*on_forget)(std::uint64_t, std::uint32_t, void*),
                  void* ctx) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(p);
  // pthread objects are at least 4-byte aligned (a spin lock is an int).
  for (std::uintptr_t x = (a + 3) & ~std::uintptr_t(3); x + 4 <= a + n; x += 4) {
    if (find(reinterpret_cast<const void*>(x)) == nullptr) continue;
    std::uint32_t owner = 0;
    std::uint64_t id = forget(reinterpret_cast<const void*>(x), &owner);
    if (id != 0 && on_forget != nullptr) on_forget(id, owner, ctx);
  }
}

bool may_hold_objects(const void* p, std::size_t n) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(p);
  for (std::uintptr_t page = a >> 12; page <= (a + n - 1) >> 12; ++page) {
    std::size_t b = page_bit(page << 12);
    if (g_page_filter[b / 64].load(std::memory_order_relaxed) & (std::uint64_t(1) << (b % 64))) return true;
  }
  return false;
}

}  // namespace lockgraph::preload
