// lockgraph::rt — the recorder runtime the wrappers call. Not meant for application code.
//
// Each thread owns a ThreadState with a write window inside a chunk of the process's trace file
// (a MAP_SHARED file mapping, so a killed process leaves everything it recorded). Recording a
// record is: bounds check, a few plain stores, one release store of the record's first word.
// No allocation, no global lock, no system call and no global atomic on that path; a new chunk
// (every 16 KiB) takes a recycled, already mapped chunk from a pool under a leaf lock; a writer
// thread copies filled chunks to their place in the file (see runtime.cpp, "staging").
//
// Contract: all functions are thread-safe. Recording is a no-op when tracing is disabled
// (LOCKGRAPH_DISABLE=1) or after the trace could not be written (the loss is counted and stated in
// the trace). Object ids are unique within a process and carry its pid, so ids from several
// processes of one run never collide.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "lockgraph/source_site.hpp"
#include "lockgraph/trace_format.hpp"

namespace lockgraph::rt {

using format::Kind;

struct SiteCacheEntry {
  const char* file;
  unsigned line;
  std::uint32_t id;
};

struct AccessFilterEntry {
  std::uint64_t key;    // address | is_write, or 0
  std::uint64_t epoch;  // the thread's sync epoch when recorded
};

// What a thread is blocked on right now, for the live watchdog. Written only by the thread itself,
// read by the watchdog thread.
enum class WaitKind : std::uint8_t { kNone = 0, kLock, kSemaphore, kEvent, kCondition, kJoin, kFuture };

struct ThreadState {
  std::uint64_t* cur = nullptr;  // next free word in the current chunk
  std::uint64_t* end = nullptr;  // end of the current chunk
  std::uint64_t* access_run = nullptr;      // word0 of this thread's last kAccessRun
  std::uint64_t* access_run_end = nullptr;  // its end: the run is open while this is cur
  std::uint64_t access_run_word0 = 0;       // its word0 as last stored (the length grows by 8 per access)
  std::uint32_t access_run_site = 0;        // its base site
  std::uint64_t access_run_last = 0;        // the address of its last access (pair halves are relative to it)
  std::uint64_t* access_pair = nullptr;     // its last word when that is a pair word with half 1 free
  std::uint64_t access_pair_word = 0;       // that word as stored
  std::uint32_t tid = 0;         // trace thread id, 1..
  std::uint32_t chunk_index = 0;
  std::uint64_t sync_epoch = 1;  // bumped at every synchronization: invalidates the access filter
  std::uint32_t timing_counter = 0;
  bool in_runtime = false;       // re-entrancy guard for the slow paths
  char name[32] = {};            // set_thread_name; read by the watchdog under the registry lock
  std::atomic<bool> exited{false};  // read by the watchdog
  SiteCacheEntry site_cache[256] = {};
  AccessFilterEntry access_filter[512] = {};

  std::atomic<std::uint8_t> wait_kind{0};
  std::atomic<std::uint64_t> wait_object{0};
  std::atomic<std::uint32_t> wait_owner{0};   // thread that holds what we wait for, 0 unknown
  std::atomic<std::uint32_t> wait_site{0};
  std::atomic<std::uint64_t> wait_since_ns{0};
  std::atomic<std::uint64_t> wait_generation{0};
  ThreadState* next_registered = nullptr;     // intrusive list of all threads, for the watchdog
  // The staging slot (a chunk position of the file) the window points into, handed to the
  // runtime's writer when the thread moves on; kNoStagingSlot when the chunk is written in place.
  std::uint64_t staging_slot = ~std::uint64_t(0);
  // Bit per site id: this thread has recorded its own stack for that return-address site (the
  // first thread's is in the site's definition; each other thread's in a kSiteCallers record).
  // Grown on the slow path; kept when the state is recycled, cleared by reset.
  std::uint64_t* stacks_recorded = nullptr;
  std::uint32_t stacks_recorded_words = 0;
};
inline constexpr std::uint64_t kNoStagingSlot = ~std::uint64_t(0);

// --- process-level state --------------------------------------------------------------------
bool enabled() noexcept;
// Registers the calling thread (slow path, once per thread). `reserved_tid` is the id its creator
// reserved with reserve_tid() so that the create record can name the child; 0 picks a new one.
ThreadState* register_current_thread(std::uint32_t parent_tid, std::uint32_t reserved_tid = 0) noexcept;
std::uint32_t reserve_tid() noexcept;
void refill(ThreadState* t, std::size_t words) noexcept;                  // slow path
// The site cache's miss path. It takes the site's fields as scalars, so an inlined call site never
// has to build a source_site in memory (its file and line stay immediates).
std::uint32_t intern_site_slow(ThreadState* t, const char* file, const char* function, unsigned line) noexcept;
std::uint32_t intern_string(ThreadState* t, const char* s) noexcept;      // slow path
// intern_string() for a lock's name, also kept for the watchdog's live messages until
// forget_lock_name(id) (the lock's destruction). Slow paths: creation and destruction of named locks.
std::uint32_t intern_lock_name(ThreadState* t, std::uint64_t id, const char* name) noexcept;
void forget_lock_name(std::uint64_t id) noexcept;
std::uint32_t intern_pc_site(ThreadState* t, const void* pc) noexcept;    // slow path of pc_site_id
// The site of an object made inside a standard-library template (detail::creation_point): code at
// `pc` in a function that returns to `caller`, with `caller` and the frames above it as its stack
// and its key (a template body that was not inlined is shared by all its callers: the stack tells
// them apart). Walks the stack at every call (~1 us): once per object made.
std::uint32_t creation_site_id(ThreadState* t, const void* pc, const void* caller) noexcept;
// The address of a global variable as a site the analyzer names from debug info; 0 when `addr`
// is not inside a loaded module (heap, stack). Slow path.
std::uint32_t intern_data_site(ThreadState* t, const void* addr) noexcept;
// Unique per process (pid in the high bits); process-shared objects get format::kProcessSharedObject.
std::uint64_t new_object_id(bool process_shared = false) noexcept;
std::uint64_t now_ns() noexcept;          // CLOCK_MONOTONIC
extern std::uint32_t g_timing_mask;       // 0 = time every acquisition (LOCKGRAPH_TIMING=all)
// The high half of the object ids this process creates, (pid << 40) >> 32, set when the trace is
// opened (and again in a fork()ed child); 0 before. Lock records of those ids are packed.
extern std::atomic<std::uint32_t> g_own_id_high;
void flush() noexcept;                    // msync the trace (watchdog, fatal signals)
// Writes the clean-shutdown trailer now (normally done at exit). Later records are counted lost.
void shutdown() noexcept;
const char* trace_path() noexcept;        // this process's trace file, or "" when not tracing
void thread_exiting(ThreadState* t) noexcept;
// Records every loaded module's address range and path (kModule), so the analyzer can name the
// global variables that instrumented accesses touch. Slow; called once (__tsan_init).
void record_module_map() noexcept;

// constinit: no dynamic initialization, so every access is a plain %fs-relative load instead of
// a call to the thread_local wrapper function (measured: that call was a third of the hot path).
extern thread_local constinit ThreadState* tls_state;

// Non-zero while the runtime works on this thread's behalf, and for the runtime's own threads
// (staging writer, watchdog): the pthread interposer (preload/) passes such calls straight to libc,
// so the runtime's internal locks and threads never appear in the trace.
extern thread_local constinit int tls_untraced;

struct untraced_scope {
  untraced_scope() noexcept { ++tls_untraced; }
  ~untraced_scope() { --tls_untraced; }
  untraced_scope(const untraced_scope&) = delete;
  untraced_scope& operator=(const untraced_scope&) = delete;
};

// True once this process knows it records nothing (LOCKGRAPH_DISABLE=1, or the trace could not be
// opened): unregistered threads then skip the out-of-line registration on every call, so a
// disabled wrapper costs what the std type costs.
extern std::atomic<bool> g_tracing_off;

inline ThreadState* self() noexcept {
  ThreadState* t = tls_state;
  if (__builtin_expect(t != nullptr, 1)) return t;
  if (g_tracing_off.load(std::memory_order_relaxed)) return nullptr;
  return register_current_thread(0);
}

// Returns nullptr while recording must not happen (disabled, or inside the runtime itself).
inline ThreadState* recording_self() noexcept {
  ThreadState* t = self();
  if (t == nullptr || t->in_runtime) return nullptr;
  return t;
}

// The thread's site cache is keyed by (file, line); a return address uses (pc, ~0u).
inline std::size_t site_cache_slot(const void* file, unsigned line) noexcept {
  return ((reinterpret_cast<std::uintptr_t>(file) >> 3) ^ (line * 0x9E3779B1u)) & 255;
}

// The site id the thread's cache holds for return address `pc`, or nullptr.
inline const std::uint32_t* cached_pc_site(const ThreadState* t, const void* pc) noexcept {
  const SiteCacheEntry& e = t->site_cache[site_cache_slot(pc, ~0u)];
  return e.file == static_cast<const char*>(pc) && e.line == ~0u ? &e.id : nullptr;
}

// A return-address site: the thread's site cache, then the slow path.
inline std::uint32_t pc_site_id(ThreadState* t, const void* pc) noexcept {
  if (const std::uint32_t* id = cached_pc_site(t, pc)) return *id;
  return intern_pc_site(t, pc);
}

inline std::uint32_t site_id(ThreadState* t, const source_site& where) noexcept {
  if (where.file == nullptr) return where.pc != nullptr ? pc_site_id(t, where.pc) : 0;
  SiteCacheEntry& e = t->site_cache[site_cache_slot(where.file, where.line)];
  if (e.file == where.file && e.line == where.line) return e.id;
  return intern_site_slow(t, where.file, where.function, where.line);
}

// The site of an object's creation record (see detail::creation_site).
inline std::uint32_t creation_site_id(ThreadState* t, const detail::creation_point& at) noexcept {
  return at.caller != nullptr ? creation_site_id(t, at.where.pc, at.caller) : site_id(t, at.where);
}

// Appends one record of `n` words (word0 included). The payload words are written first and word0
// last with release order, so a reader never sees a half-written record as valid.
[[gnu::always_inline]] inline void emit(ThreadState* t, std::uint64_t word0, const std::uint64_t* payload,
                 std::size_t n_payload) noexcept {
  std::size_t n = n_payload + 1;
  if (__builtin_expect(t->end - t->cur < static_cast<std::ptrdiff_t>(n + 1), 0)) {
    refill(t, n + 1);
    if (t->cur == nullptr) return;  // trace lost; counted by refill
  }
  std::uint64_t* p = t->cur;
  for (std::size_t i = 0; i < n_payload; ++i) p[i + 1] = payload[i];
  t->cur = p + n;
  __atomic_store_n(p, word0, __ATOMIC_RELEASE);
}

// True for records after which an access the thread repeats is still redundant: acquisitions
// (and waits, requests, failures) only add happens-before into the thread and locks to its set,
// so a repeated access could neither race where the first did not, nor shrink a lockset further.
// Releases (and everything else) start a new redundancy epoch. An atomic's acquire half is an
// acquisition too; its release half is not (flags carry the operation).
constexpr bool keeps_access_epoch(Kind kind, std::uint8_t flags) noexcept {
  switch (kind) {
    case Kind::kLockRequest:
    case Kind::kLockAcquired:
    case Kind::kLockFailed:
    case Kind::kSemRequest:
    case Kind::kSemAcquired:
    case Kind::kSemFailed:
    case Kind::kEventWaitBegin:
    case Kind::kEventWaitEnd:
    case Kind::kThreadJoin:
    case Kind::kHbAcquire:
    case Kind::kBarrierDepart:
    case Kind::kMemAlloc:
      return true;
    case Kind::kAtomic:
      return (flags & 3u) == format::kAtomicLoad;
    default:
      return false;
  }
}

// Sync record: object, seq, time, value, value2 — trailing words omitted when `words` is smaller.
inline void emit_sync(ThreadState* t, Kind kind, std::uint8_t flags, std::uint32_t site,
                      std::uint64_t object, std::uint64_t seq, std::uint64_t time = 0,
                      std::uint64_t value = 0, std::uint64_t value2 = 0, int words = -1) noexcept {
  std::uint64_t payload[5] = {object, seq, time, value, value2};
  if (words < 0) words = value2 ? 5 : value ? 4 : time ? 3 : 2;
  emit(t, format::make_word0(kind, flags, std::uint16_t((words + 1) * 8), site), payload,
       std::size_t(words));
  if (!keeps_access_epoch(kind, flags)) ++t->sync_epoch;
}

// A lock's acquisition or release: 16 bytes when the record can be packed (no time, a lock of
// this process, seq < 2^32; see format::lock_record_packable), the 24- or 32-byte record otherwise.
[[gnu::always_inline]] inline void emit_lock(ThreadState* t, Kind kind, std::uint8_t flags, std::uint32_t site, std::uint64_t id,
                      std::uint64_t seq, std::uint64_t time) noexcept {
  if (time == 0 && format::lock_record_packable(id, seq, g_own_id_high.load(std::memory_order_relaxed))) {
    const std::uint64_t word = format::pack_lock_word(id, seq);
    const Kind packed = kind == Kind::kLockAcquired ? Kind::kLockAcquiredPacked : Kind::kLockReleasePacked;
    emit(t, format::make_word0(packed, flags, 16, site), &word, 1);
    if (!keeps_access_epoch(kind, flags)) ++t->sync_epoch;
    return;
  }
  emit_sync(t, kind, flags, site, id, seq, time, 0, 0, time ? 3 : 2);
}

// Decides whether this acquisition's hold is timed (see LOCKGRAPH_TIMING in docs/user-guide.md):
// reading the clock costs more than an uncontended lock, so uncontended holds are sampled.
inline bool should_time(ThreadState* t) noexcept {
  return (t->timing_counter++ & g_timing_mask) == 0;
}

// The redundancy filter: the same address and access kind already recorded since the thread's
// last synchronization adds nothing for race detection. Returns true when the access is new.
inline bool access_is_new(ThreadState* t, std::uint64_t a, bool is_write) noexcept {
  std::uint64_t key = (a << 1) | (is_write ? 1 : 0);
  AccessFilterEntry& f = t->access_filter[(a >> 2 ^ a >> 11) & 511];
  if (f.key == key && f.epoch == t->sync_epoch) return false;
  f.key = key;
  f.epoch = t->sync_epoch;
  return true;
}

// Appends `word` to the thread's open access run: the run's new length first, then the word, so a
// kill in between leaves a zero word inside the run (skipped by readers), never a word past its
// end that would read as the next record. The caller checked that the run is open and has room.
[[gnu::always_inline]] inline void append_run_word(ThreadState* t, std::uint64_t word) noexcept {
  t->access_run_word0 += std::uint64_t(8) << 16;  // word0's length field
  __atomic_store_n(t->access_run, t->access_run_word0, __ATOMIC_RELEASE);
  __atomic_store_n(t->cur++, word, __ATOMIC_RELEASE);
  t->access_run_end = t->cur;
}

// The cases emit_access leaves out of line: a new run (16 bytes), or a record of its own for an
// access no run word can hold. Out of line so that the common case saves no registers.
void emit_access_slow(ThreadState* t, std::uint64_t a, std::uint32_t size, bool is_write, std::uint32_t site) noexcept;

// An access is appended to the thread's open access run when nothing else was recorded since
// (8 bytes, or 4 as half of a pair word); otherwise emit_access_slow starts a new run or writes a
// record of its own.
[[gnu::always_inline]] inline void emit_access(ThreadState* t, std::uint64_t a, std::uint32_t size, bool is_write,
                                               std::uint32_t site) noexcept {
  std::uint64_t word = 0;
  // Open run: nothing was recorded since its last access (a lost trace has cur == end, so the
  // room check fails for it too). A run is at most one chunk, far below word0's 16-bit length.
  if (t->access_run_end == t->cur) {
    if (format::pair_access_half(a, t->access_run_last, size, is_write, site, t->access_run_site, &word)) {
      t->access_run_last = a;
      if (t->access_pair != nullptr) {  // half 1 of the run's last word: no new word, no new length
        __atomic_store_n(t->access_pair, t->access_pair_word | (word << 31), __ATOMIC_RELEASE);
        t->access_pair = nullptr;
        return;
      }
      if (t->end - t->cur >= 2) {
        t->access_pair = t->cur;
        t->access_pair_word = word;
        append_run_word(t, word);
        return;
      }
    } else if (t->end - t->cur >= 2 && format::run_access_word(a, size, is_write, site, t->access_run_site, &word)) {
      append_run_word(t, word);
      t->access_run_last = a;
      t->access_pair = nullptr;
      return;
    }
  }
  emit_access_slow(t, a, size, is_write, site);
}

[[gnu::always_inline]] inline void record_access(const void* addr, std::uint32_t size, bool is_write,
                          const source_site& where) noexcept {
  ThreadState* t = recording_self();
  if (t == nullptr) return;
  auto a = reinterpret_cast<std::uint64_t>(addr);
  if (!access_is_new(t, a, is_write)) return;
  emit_access(t, a, size, is_write, site_id(t, where));
}

// Watchdog bookkeeping for the blocking slow paths.
void begin_wait(ThreadState* t, WaitKind kind, std::uint64_t object, std::uint32_t owner,
                std::uint32_t site) noexcept;
inline void update_wait_owner(ThreadState* t, std::uint32_t owner) noexcept {
  t->wait_owner.store(owner, std::memory_order_relaxed);
}
void end_wait(ThreadState* t) noexcept;

// Happens-before annotation keys share a fixed table of sequence counters (hashing an address to a
// slot); the record names the key and the slot's sequence, so each key's order stays exact.
// Returns the slot's object id; *seq receives the slot's next sequence number.
std::uint64_t annotation_slot(const void* key, std::uint64_t* seq) noexcept;

}  // namespace lockgraph::rt
