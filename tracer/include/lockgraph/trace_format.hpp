// lockgraph trace format v1: the on-disk layout shared by the recorder (writer) and the reader.
//
// Contract: this header is the single source of truth for the binary layout; docs/trace-format.md
// describes the same thing in prose. Everything is little-endian, 8-byte aligned.
//
//   file   = FileHeader (kHeaderSize bytes) , Chunk*
//   chunk  = ChunkHeader (32 bytes) , Record* , zero word | end of chunk     (kChunkSize bytes)
//   record = word0 (kind:8 | flags:8 | length:16 | site:32) , payload (length - 8 bytes)
//
// A chunk belongs to exactly one recorded thread (or to the process: thread 0). A record is valid
// once its word0 is non-zero: the writer stores the payload first and word0 last (release order),
// so a process killed mid-record leaves a zero word0 and the reader stops that chunk there.
// Cost: none; constants and plain structs only.
#pragma once

#include <cstdint>

namespace lockgraph::format {

inline constexpr char kMagic[8] = {'L', 'G', 'T', 'R', 'A', 'C', 'E', '\0'};
// 2: adds the packed lock records (kinds 26, 27) and access runs (kind 88).
// 3: adds pair words to access runs (two accesses in 8 bytes; see pair_access_half).
// Readers read every version up to theirs.
inline constexpr std::uint32_t kVersion = 3;
inline constexpr std::uint32_t kHeaderSize = 4096;
inline constexpr std::uint32_t kChunkSize = 16384;
inline constexpr std::uint32_t kChunkMagic = 0x4b43474cu;  // "LGCK"
inline constexpr std::uint32_t kProcessThread = 0;           // chunks with process-level records
inline constexpr std::uint32_t kTrailerThread = 0xffffffffu; // the trailer chunk
inline constexpr std::uint64_t kAnnotationTag = 1ull << 63;     // object ids of annotation slots
inline constexpr std::uint64_t kProcessSharedObject = 1ull << 62;  // objects shared by processes: one id across files

// Record kinds. Values are part of the format: never renumber, only append.
enum class Kind : std::uint8_t {
  kNone = 0,  // end of the chunk's records
  // metadata
  kStringDef = 1,  // site=string id; payload: bytes, NUL padded to 8
  kSiteDef = 2,    // site=site id; payload: file string, line, function string, pc
  kSiteDefPc = 3,  // site=site id; payload: pc, module string, offset in module (no file:line yet); flags bit0: a data address (a global), not code, bit1 (kSiteByCaller): an object made inside a library template, whose callers start at its function's caller; named after the first of them in the program's own code where its own frames are library code; then n callers as (module string, offset) pairs after a count word
  kSiteCallers = 5,  // site=site id of a code kSiteDefPc; payload: n, then n callers as (module string, offset): the stack above the site when this chunk's thread first reached it, for every thread but the one whose stack the kSiteDefPc holds (format version 3)
  kTrailer = 4,    // time = end ns; value = chunks used; value2 = records lost; value3 = threads; extra[0] = reason (0 exit, 1 watchdog)
  kModule = 7,     // a loaded module: load bias, first and end address of its segments, then its path (NUL padded)
  kProcessStart = 6,  // value = pid, value2 = parent pid, value3 = fork id (the parent's fork record seq), 0 if none
  kProcessFork = 8,   // in the forking thread's stream: seq = fork id; value = child pid (0 = unknown)
  kVarName = 9,       // object = address; value = size; value2 = name string id
  // threads (object = the other thread's trace id where one is involved)
  kThreadCreate = 10,
  kThreadStart = 11,  // object = parent trace thread (0 unknown); value = OS tid; value2 = name string
  kThreadEnd = 12,
  kThreadJoin = 13,
  kThreadDetach = 14,
  kThreadName = 15,   // value = name string id (lockgraph::set_thread_name)
  // locks (object = lock id)
  kLockCreate = 20,   // flags = LockType; value = name string id; value2 = data site of its address (interposed locks)
  kLockDestroy = 21,
  kLockRequest = 22,  // flags = AcqFlags; time
  kLockAcquired = 23, // flags = AcqFlags; seq; time (0 = not timed)
  kLockFailed = 24,   // try/timed acquisition that failed; flags = AcqFlags; time
  kLockRelease = 25,  // flags = AcqFlags(kShared); seq; time
  // The common case of the two above in 16 bytes (format version 2): no time, a lock created in
  // this process (id = pid << 40 | n with n < 2^32) and seq < 2^32. Payload: one word,
  // n | seq << 32. Readers return them as kLockAcquired / kLockRelease with the full id.
  kLockAcquiredPacked = 26,
  kLockReleasePacked = 27,
  // counting semaphores (object = semaphore id)
  kSemCreate = 30,    // value = initial count, value2 = maximum; value3 = name string
  kSemDestroy = 31,
  kSemRequest = 32,   // time
  kSemAcquired = 33,  // flags = AcqFlags; seq; time
  kSemFailed = 34,
  kSemRelease = 35,   // seq; value = update count; value2 = count after (if known)
  // events, Python threading.Event semantics (object = event id)
  kEventCreate = 40,  // value = name string
  kEventSet = 41,     // seq
  kEventClear = 42,   // seq
  kEventWaitBegin = 43,  // value = timeout ns (UINT64_MAX none); time
  kEventWaitEnd = 44,    // flags bit0 = result true; seq; time
  // condition variables (object = cv id)
  kCondCreate = 50,
  kCondWaitBegin = 51,  // value = mutex id; time
  kCondWaitEnd = 52,    // flags bit0 = timed out; value = mutex id; time
  kCondNotify = 53,     // flags bit0 = notify_all; seq
  // barriers (object = barrier id)
  kBarrierCreate = 60,  // value = expected count
  kBarrierArrive = 61,  // seq; value = phase
  kBarrierDepart = 62,  // seq; value = phase
  // thread pools (object = pool id; value = task id)
  kPoolCreate = 70,     // value = max workers
  kPoolSubmit = 71,
  kPoolTaskStart = 72,
  kPoolTaskEnd = 73,
  kPoolResult = 74,     // the future's result was taken
  kPoolCallback = 75,   // a done-callback ran
  kPoolShutdown = 76,   // flags bit0 = wait
  kPoolShutdownDone = 77,
  // memory (object = address)
  kRead = 80,        // flags = size (1..255); short record: word0 + address
  kWrite = 81,
  kReadRange = 82,   // value = size
  kWriteRange = 83,
  kAtomic = 84,      // flags = AtomicFlags; object = address slot; seq = the slot's sequence (a load: releases up to seq-1 observed); value = size; value2 = address
  kFence = 85,       // flags = memory order
  // Heap blocks of instrumented programs (and thread stacks): object = the block's address slot;
  // value = size; value2 = address. A free takes the slot's next seq; an allocation observes it
  // (seq = observed + 1), so the replay puts the reuse of memory after its release. Not
  // synchronization: a free ends its bytes' race history, the next owner starts afresh.
  kMemAlloc = 86,
  kMemFree = 87,
  // Consecutive plain accesses of a thread in one record (format version 2), 8 bytes each instead
  // of 16, or 4 (version 3) when near the previous one. word0's site is the run's base site; each
  // payload word is one access (see run_access_word; bit 63 set) or two (a pair word, bit 63
  // clear; see pair_access_half). The writer appends an access by
  // storing word0 with the new length first, then the word: a process killed in between leaves a
  // zero word inside the run, which readers skip. Readers return kRead / kWrite events.
  kAccessRun = 88,
  // happens-before annotations (object = annotation key; seq per key)
  kHbRelease = 90,  // object = slot id (kAnnotationTag | slot); seq; value = the key address
  kHbAcquire = 91,
  // watchdog
  kDeadlock = 110,   // flags = cause (1 cycle, 2 stall); time; value = n; extra: n x (thread, object, owner | wait kind << 32, site)
};

enum class LockType : std::uint8_t {
  kMutex = 1,
  kTimedMutex = 2,
  kRecursiveMutex = 3,
  kRecursiveTimedMutex = 4,
  kSharedMutex = 5,
  kSpinLock = 6,
  kSharedTimedMutex = 7,
};
inline constexpr std::uint8_t kLockProcessShared = 0x80;  // or-ed into LockType flags
// kSiteDefPc flag: the site of an object made inside a standard-library template, whose stack
// starts at the caller of the function its pc is in (the tracer keys such sites by pc and stack):
// where the pc's inlined frames are all library or lockgraph code, the first frame of the stack in
// the program's own code names it.
inline constexpr std::uint8_t kSiteByCaller = 2;

// Flags of acquisition records (locks and semaphores).
enum AcqFlags : std::uint8_t {
  kAcqShared = 1,     // reader acquisition of a shared mutex
  kAcqTry = 2,        // try_lock: never blocks
  kAcqTimed = 4,      // try_lock_for / until: may block for a bounded time
  kAcqContended = 8,  // the lock was not free at the first attempt
  kAcqRecursive = 16, // re-entry of a recursive mutex already held by this thread
};

enum AtomicFlags : std::uint8_t {
  kAtomicLoad = 1,
  kAtomicStore = 2,
  kAtomicRmw = 3,          // low 2 bits: operation
  kAtomicOrderShift = 2,   // bits 2..4: std::memory_order as 0 relaxed .. 5 seq_cst
};

struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint32_t chunk_size;
  std::uint32_t flags;
  std::uint64_t pid;
  std::uint64_t ppid;
  std::uint64_t start_mono_ns;
  std::uint64_t start_real_ns;
  std::uint64_t events_lost;   // records that could not be written (updated live, atomically)
  std::uint64_t fork_id;       // non-zero when this process was fork()ed by a traced parent
  char program[256];           // argv[0] / executable path, NUL terminated
  std::uint64_t first_loss_mono_ns;  // when the first record could not be written (0: none lost)
};
static_assert(sizeof(FileHeader) <= kHeaderSize);

struct ChunkHeader {
  std::uint32_t magic;         // kChunkMagic once the chunk is claimed; written last
  std::uint32_t thread;        // trace thread id (1..), kProcessThread or kTrailerThread
  std::uint32_t index;         // 0, 1, 2... within its thread: the chunk order of that thread
  std::uint32_t reserved;
  std::uint64_t pid;
  std::uint64_t reserved2;
};
static_assert(sizeof(ChunkHeader) == 32);

inline constexpr std::uint64_t make_word0(Kind kind, std::uint8_t flags, std::uint16_t length,
                                          std::uint32_t site) {
  return std::uint64_t(static_cast<std::uint8_t>(kind)) | (std::uint64_t(flags) << 8) |
         (std::uint64_t(length) << 16) | (std::uint64_t(site) << 32);
}
inline constexpr Kind word0_kind(std::uint64_t w) { return static_cast<Kind>(w & 0xff); }
inline constexpr std::uint8_t word0_flags(std::uint64_t w) { return (w >> 8) & 0xff; }
inline constexpr std::uint16_t word0_length(std::uint64_t w) { return (w >> 16) & 0xffff; }
inline constexpr std::uint32_t word0_site(std::uint64_t w) { return std::uint32_t(w >> 32); }

// Packed lock records (kLockAcquiredPacked, kLockReleasePacked): `id_high` is the high half of
// the ids the writing process creates, (pid << 40) >> 32.
inline constexpr bool lock_record_packable(std::uint64_t id, std::uint64_t seq, std::uint32_t id_high) {
  return (id >> 32) == id_high && (seq >> 32) == 0 && id_high != 0;
}
inline constexpr std::uint64_t pack_lock_word(std::uint64_t id, std::uint64_t seq) {
  return (id & 0xffffffffu) | (seq << 32);
}
inline constexpr std::uint64_t packed_lock_id(std::uint64_t word, std::uint64_t pid) {
  return (pid << 40) | (word & 0xffffffffu);
}
inline constexpr std::uint64_t packed_lock_seq(std::uint64_t word) { return word >> 32; }

// One access of a kAccessRun: address (bits 0-47) | write (bit 48) | log2 of the size (bits 49-51:
// 1, 2, 4, 8 or 16 bytes) | site - the run's base site as a signed 11-bit number (bits 52-62) |
// 1 (bit 63: an access word is never 0, so a zero word inside a run is an append a kill cut
// short — the writer stores the run's new length first — and readers skip it).
// Returns false when the access does not fit (other sizes, addresses past 2^48, a site too far
// from the base): it then gets its own record.
inline constexpr std::uint64_t kRunAddressMask = (std::uint64_t(1) << 48) - 1;
inline constexpr bool run_access_word(std::uint64_t address, std::uint32_t size, bool write, std::uint32_t site,
                                      std::uint32_t base_site, std::uint64_t* word) {
  const int log2 = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : size == 16 ? 4 : -1;
  const std::int64_t delta = std::int64_t(site) - std::int64_t(base_site);
  if (log2 < 0 || address > kRunAddressMask || delta < -1024 || delta > 1023) return false;
  *word = address | (std::uint64_t(write) << 48) | (std::uint64_t(log2) << 49) | (std::uint64_t(delta & 0x7ff) << 52) |
          (std::uint64_t(1) << 63);
  return true;
}
// A *pair word* of a kAccessRun (format version 3) holds two accesses in 31 bits each, bit 63
// clear: half 0 in bits 0-30, half 1 in bits 31-61, bit 62 zero. A half is 1 (bit 0: present) |
// write (bit 1) | log2 of the size (bits 2-3: 1, 2, 4 or 8 bytes) | site - the run's base site as a
// signed 5-bit number (bits 4-8) | address - the previous access's address in the run as a signed
// 22-bit number (bits 9-30). A loop over an array or a struct's fields fits, and its trace halves.
// The writer stores a pair word with half 0 alone, then again whole when the next access fits:
// each store is one 8-byte store, so a reader sees one half or two, never a torn one.
// Returns false when the access does not fit a half.
inline constexpr int kPairDeltaBits = 22;
inline constexpr bool pair_access_half(std::uint64_t address, std::uint64_t previous, std::uint32_t size, bool write,
                                       std::uint32_t site, std::uint32_t base_site, std::uint64_t* half) {
  const int log2 = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;
  const std::uint64_t delta = address - previous;
  const std::uint32_t site_delta = site - base_site;
  if (log2 < 0 || delta + (std::uint64_t(1) << (kPairDeltaBits - 1)) >= (std::uint64_t(1) << kPairDeltaBits) ||
      site_delta + 16u >= 32u) {
    return false;
  }
  *half = 1u | (std::uint64_t(write) << 1) | (std::uint64_t(log2) << 2) | (std::uint64_t(site_delta & 31u) << 4) |
          ((delta & ((std::uint64_t(1) << kPairDeltaBits) - 1)) << 9);
  return true;
}
inline constexpr bool is_pair_word(std::uint64_t word) { return (word >> 63) == 0; }
inline constexpr std::uint64_t pair_half(std::uint64_t word, int index) { return (word >> (31 * index)) & 0x7fffffffu; }
struct RunAccess {
  std::uint64_t address;
  std::uint32_t size;
  bool write;
  std::uint32_t site;
};
inline constexpr RunAccess decode_run_access(std::uint64_t word, std::uint32_t base_site) {
  std::int64_t delta = std::int64_t((word >> 52) & 0x7ff);
  if (delta >= 1024) delta -= 2048;
  return RunAccess{word & kRunAddressMask, std::uint32_t(1) << ((word >> 49) & 7), ((word >> 48) & 1) != 0,
                   std::uint32_t(std::int64_t(base_site) + delta)};
}
// A present half (bit 0 set) of a pair word; `previous`: the address of the access before it in the run.
inline constexpr RunAccess decode_pair_half(std::uint64_t half, std::uint64_t previous, std::uint32_t base_site) {
  const std::int64_t site_delta = std::int64_t((half >> 4) & 31) - (((half >> 4) & 16) ? 32 : 0);
  std::int64_t delta = std::int64_t(half >> 9);
  if (delta >= (std::int64_t(1) << (kPairDeltaBits - 1))) delta -= std::int64_t(1) << kPairDeltaBits;
  return RunAccess{(previous + std::uint64_t(delta)) & kRunAddressMask, std::uint32_t(1) << ((half >> 2) & 3),
                   ((half >> 1) & 1) != 0, std::uint32_t(std::int64_t(base_site) + site_delta)};
}

// Payload layout of every record but the definitions (kStringDef, kSiteDef, kSiteDefPc):
// object, seq, time, value, value2, value3, extra... — words may be omitted from the end (read as
// 0); the record's length tells how many are present. kRead/kWrite are short: object (the address)
// only, with the access size in flags.
inline constexpr int kFixedWords = 6;

}  // namespace lockgraph::format
