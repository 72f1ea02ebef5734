// The recorder runtime: trace file creation, chunk allocation, thread registry, intern tables,
// fork handling and the clean-shutdown trailer. See runtime.hpp for the contract.
#include "lockgraph/runtime.hpp"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>
#include <thread>

#include "process_trace.hpp"

namespace lockgraph::rt {

thread_local constinit ThreadState* tls_state = nullptr;
std::atomic<bool> g_tracing_off{false};
thread_local constinit int tls_untraced = 0;
std::atomic<std::uint32_t> g_own_id_high{0};
std::uint32_t g_timing_mask = 63;  // time 1 in 64 uncontended holds (LOCKGRAPH_TIMING)

void emit_access_slow(ThreadState* t, std::uint64_t a, std::uint32_t size, bool is_write, std::uint32_t site) noexcept {
  std::uint64_t word = 0;
  if (format::run_access_word(a, size, is_write, site, site, &word)) {
    const std::uint64_t word0 = format::make_word0(Kind::kAccessRun, 0, 16, site);
    emit(t, word0, &word, 1);
    if (t->cur != nullptr) {
      t->access_run = t->cur - 2;
      t->access_run_end = t->cur;
      t->access_run_word0 = word0;
      t->access_run_site = site;
      t->access_run_last = a;
      t->access_pair = nullptr;
    }
    return;
  }
  if (size <= 255) {
    emit(t, format::make_word0(is_write ? Kind::kWrite : Kind::kRead, std::uint8_t(size), 16, site), &a, 1);
  } else {
    std::uint64_t payload[4] = {a, 0, 0, size};
    emit(t, format::make_word0(is_write ? Kind::kWriteRange : Kind::kReadRange, 0, 40, site), payload, 4);
  }
}

namespace internal {

Process& process() noexcept {
  // Never destroyed: threads may still record while static destructors run.
  static Process* p = new Process();
  return *p;
}

void count_lost(std::uint64_t n) noexcept {
  Process& p = process();
  if (p.header == nullptr) return;
  if (__atomic_fetch_add(&p.header->events_lost, n, __ATOMIC_RELAXED) == 0) {
    // Where the trace stops being complete (a cold path: the disk is already full).
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::uint64_t zero = 0, now = std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
    __atomic_compare_exchange_n(&p.header->first_loss_mono_ns, &zero, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  }
}

namespace {

std::uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

std::uint64_t real_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

}  // namespace

void program_name(char* out, std::size_t size) {
  out[0] = '\0';
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n > 0) out[n] = '\0';
}

namespace {

void warn(const char* what) {
  std::fprintf(stderr, "lockgraph: %s\n", what);
}

// Opens a fresh trace file in the trace directory: never overwrites, never follows a symlink.
bool open_trace_file(Process& p, std::uint64_t fork_id, std::uint64_t ppid) {
  const char* dir = std::getenv("LOCKGRAPH_TRACE_DIR");
  std::string d = (dir != nullptr && *dir != '\0') ? dir : "lockgraph-trace";
  if (mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) {
    std::string msg = "cannot create trace directory '" + d + "': " + std::strerror(errno) + "; tracing disabled";
    warn(msg.c_str());
    return false;
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    char name[64];
    if (attempt == 0) {
      std::snprintf(name, sizeof name, "/lockgraph-%llu.trace", static_cast<unsigned long long>(p.pid));
    } else {
      std::snprintf(name, sizeof name, "/lockgraph-%llu-%d.trace", static_cast<unsigned long long>(p.pid), attempt);
    }
    std::string path = d + name;
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      std::string msg = "cannot create trace file '" + path + "': " + std::strerror(errno) + "; tracing disabled";
      warn(msg.c_str());
      return false;
    }
    if (posix_fallocate(fd, 0, format::kHeaderSize) != 0) {
      warn("cannot allocate the trace header (disk full?); tracing disabled");
      close(fd);
      unlink(path.c_str());
      return false;
    }
    void* h = mmap(nullptr, format::kHeaderSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED) {
      close(fd);
      return false;
    }
    p.fd = fd;
    p.path = path;
    p.header = static_cast<format::FileHeader*>(h);
    format::FileHeader& hd = *p.header;
    std::memcpy(hd.magic, format::kMagic, sizeof hd.magic);
    hd.version = format::kVersion;
    hd.header_size = format::kHeaderSize;
    hd.chunk_size = format::kChunkSize;
    hd.pid = p.pid;
    hd.ppid = ppid;
    hd.start_mono_ns = mono_ns();
    hd.start_real_ns = real_ns();
    hd.fork_id = fork_id;
    program_name(hd.program, sizeof hd.program);
    return true;
  }
  warn("cannot find a free trace file name; tracing disabled");
  return false;
}

#ifdef MADV_POPULATE_WRITE
constexpr int kMadvPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvPopulateWrite = 23;  // Linux uapi value; older headers lack the name
#endif

std::uint64_t chunk_offset(std::uint64_t index) {
  return format::kHeaderSize + index * format::kChunkSize;
}

// Maps the segment holding chunk `index`, with its file space allocated. Called with grow_mu held.
bool ensure_mapped_locked(Process& p, std::uint64_t index) {
  if (p.closed || index >= kMaxChunks) return false;
  const std::size_t seg = index / kSegmentChunks;
  if (p.segments[seg].load(std::memory_order_relaxed) != nullptr) return true;
  const off_t offset = off_t(chunk_offset(std::uint64_t(seg) * kSegmentChunks));
  const off_t len = off_t(kSegmentChunks * format::kChunkSize);
  // posix_fallocate, not ftruncate: a sparse file on a full disk would SIGBUS the program. Chunks
  // the writer already copied into this range keep their bytes.
  if (posix_fallocate(p.fd, offset, len) != 0) return false;
  void* m = mmap(nullptr, std::size_t(len), PROT_READ | PROT_WRITE, MAP_SHARED, p.fd, offset);
  if (m == MAP_FAILED) return false;
  p.segments[seg].store(static_cast<char*>(m), std::memory_order_release);
  if (seg + 1 > p.segments_end.load(std::memory_order_relaxed)) p.segments_end.store(seg + 1, std::memory_order_release);
  return true;
}

char* chunk_address(Process& p, std::uint64_t index) {
  char* base = p.segments[index / kSegmentChunks].load(std::memory_order_acquire);
  return base + (index % kSegmentChunks) * format::kChunkSize;
}

// Up to n chunk positions no one used yet, consecutive from *first, mapped and with their pages
// faulted in as written, one call per mapped segment (MAP_POPULATE alone would map a shared
// file's pages read-only, so every page would still fault on its first record). As slots they
// are then reused without faults. Returns how many (0 when the disk is full or the trace is
// closed); positions past a failure stay all zero, which readers skip.
std::uint64_t claim_fresh_chunks(Process& p, std::uint64_t n, std::uint64_t* first) {
  const std::uint64_t from = p.next_chunk.fetch_add(n, std::memory_order_relaxed);
  if (from >= kMaxChunks) return 0;
  std::uint64_t to = std::min(from + n, kMaxChunks);
  for (std::uint64_t i = from; i < to;) {
    if (p.segments[i / kSegmentChunks].load(std::memory_order_acquire) == nullptr) {
      std::lock_guard<std::mutex> g(p.grow_mu);
      if (!ensure_mapped_locked(p, i)) {
        to = i;
        break;
      }
    }
    const std::uint64_t end = std::min(to, (i / kSegmentChunks + 1) * kSegmentChunks);
    char* c = chunk_address(p, i);
    if (madvise(c, (end - i) * format::kChunkSize, kMadvPopulateWrite) != 0) {
      volatile char* touch = c;
      for (std::size_t b = 0; b < (end - i) * format::kChunkSize; b += 4096) touch[b] = 0;
    }
    i = end;
  }
  *first = from;
  return to - from;
}

bool claim_fresh_chunk(Process& p, std::uint64_t* index) {
  return claim_fresh_chunks(p, 1, index) == 1;
}

// --- staging -------------------------------------------------------------------------------
// A recording thread writes into a slot: a chunk position of the file, mapped and faulted in
// once, then used again and again. When the thread moves on, the slot goes to the writer thread,
// which copies it to a fresh chunk position with pwritev() (the page cache takes the bytes without
// a page fault on anyone's mapping), then clears it and returns it to the pool. Crash safety is
// kept: a slot is part of the trace file, so until its copy exists it *is* the chunk; a kill
// between the copy and the clearing leaves the chunk twice, identical, and the reader reads it
// once (docs/trace-format.md). Only full chunks, or those of threads that ended, are handed over,
// so a copy never misses a later record.

void staging_writer_main();

void hand_over_slot(Process& p, ThreadState* t) {
  const std::uint64_t slot = t->staging_slot;
  if (slot == kNoStagingSlot) return;
  t->staging_slot = kNoStagingSlot;
  std::lock_guard<std::mutex> g(p.staging_mu);
  p.staging_full.push_back(slot);
  if (!p.staging_writer_started) {
    p.staging_writer_started = true;
    untraced_scope internal;
    try {
      std::thread(staging_writer_main).detach();
    } catch (const std::system_error&) {
      // No thread to be had (EAGAIN): slots are not recycled, every chunk is a fresh one, as a
      // slot needs no copy to be read. Tried again at the next hand-over.
      p.staging_writer_started = false;
    }
  } else if (p.staging_writer_idle && p.staging_full.size() >= kStagingWakeBatch) {
    p.staging_writer_idle = false;
    p.staging_cv.notify_one();
  }
}

bool take_free_slot(Process& p, std::uint64_t* slot) {
  std::lock_guard<std::mutex> g(p.staging_mu);
  // After the trailer (next_chunk is past kMaxChunks then) no chunk is handed out: what threads
  // record later is counted as lost, as the trailer says.
  if (p.staging_free.empty() || p.next_chunk.load(std::memory_order_relaxed) >= kMaxChunks) return false;
  *slot = p.staging_free.back();
  p.staging_free.pop_back();
  return true;
}

// Copies slots[0, n) to n consecutive fresh chunk positions with pwritev(), kCopyRun chunks per
// call: one 16 KiB pwrite() per chunk cost the writer ~4x the kernel time of 256 KiB calls (the
// page cache's work per call and per small folio), and the writer shares the program's cores.
// Returns how many slots, from the first, were copied whole; the rest (disk full, trace closed)
// stay what they are, chunks of the trace, and leave the pool. A copy cut short by a kill (the
// kernel stops a write between pages for a fatal signal) holds its slot's bytes up to a page and
// zeros after it, while the slot is still whole: the reader reads the slot (docs/trace-format.md).
std::size_t copy_out(Process& p, const std::uint64_t* slots, std::size_t n) {
  const std::uint64_t first = p.next_chunk.fetch_add(n, std::memory_order_relaxed);
  if (first >= kMaxChunks) return 0;
  n = std::size_t(std::min<std::uint64_t>(n, kMaxChunks - first));
  iovec parts[kCopyRun];
  for (std::size_t i = 0; i < n; ++i) parts[i] = {chunk_address(p, slots[i]), format::kChunkSize};
  std::size_t done = 0;  // bytes written
  std::size_t part = 0;  // the first part not wholly written
  while (part < n) {
    const std::size_t skip = done - part * format::kChunkSize;  // of parts[part], already written
    parts[part].iov_base = chunk_address(p, slots[part]) + skip;
    parts[part].iov_len = format::kChunkSize - skip;
    const ssize_t w = pwritev(p.fd, parts + part, int(n - part), off_t(chunk_offset(first) + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += std::size_t(w);
    part = done / format::kChunkSize;
  }
  return part;
}

void staging_writer_main() {
  tls_untraced = 1;  // a runtime thread: never traced
  Process& p = process();
  std::vector<std::uint64_t> batch, recycled;
  for (;;) {
    {
      std::unique_lock<std::mutex> g(p.staging_mu);
      while (p.staging_full.empty() && !p.staging_stopped) {
        p.staging_writer_idle = true;
        p.staging_cv.wait(g);
      }
      if (p.staging_stopped) return;  // what waits stays in its slots, whole chunks of the file
      p.staging_writer_idle = false;
      p.staging_writer_copying = true;
      batch.swap(p.staging_full);
    }
    recycled.clear();
    for (std::size_t at = 0; at < batch.size(); at += kCopyRun) {
      const std::size_t run = std::min(kCopyRun, batch.size() - at);
      const std::size_t copied = copy_out(p, batch.data() + at, run);
      for (std::size_t i = 0; i < copied; ++i) {
        // The magic first: from here on a reader skips the slot, whatever a kill leaves in it.
        char* c = chunk_address(p, batch[at + i]);
        __atomic_store_n(&reinterpret_cast<format::ChunkHeader*>(c)->magic, 0u, __ATOMIC_RELEASE);
        std::memset(c + sizeof(std::uint32_t), 0, format::kChunkSize - sizeof(std::uint32_t));
        recycled.push_back(batch[at + i]);
      }
    }
    const std::size_t batch_size = batch.size();
    batch.clear();
    std::size_t spare;
    {
      std::lock_guard<std::mutex> g(p.staging_mu);
      spare = p.staging_free.size() + recycled.size();
    }
    // Slots made ahead: a recording thread that finds the pool empty (the writer was descheduled,
    // on a machine whose cores the program keeps busy) claims and faults in a fresh chunk itself,
    // one system call per 16 KiB on the program's time. The writer keeps twice the batch it just
    // copied free instead (at most kSpareSlots), in one call per segment; a program that records
    // little gets few, so its trace file does not grow by spares it never fills.
    const std::size_t want = std::min(kSpareSlots, 2 * batch_size);
    std::uint64_t first = 0;
    if (spare < want) {
      const std::uint64_t made = claim_fresh_chunks(p, want - spare, &first);
      for (std::uint64_t i = 0; i < made; ++i) recycled.push_back(first + i);
    }
    std::lock_guard<std::mutex> g(p.staging_mu);
    p.staging_free.insert(p.staging_free.end(), recycled.begin(), recycled.end());
    p.staging_writer_copying = false;
    p.staging_done_cv.notify_all();
  }
}

// At a clean end: no copy after this returns, and none is half done (the batch in hand is
// finished first), so a trace that has its trailer holds every chunk once.
void stop_staging_writer(Process& p) {
  std::unique_lock<std::mutex> g(p.staging_mu);
  p.staging_stopped = true;
  p.staging_cv.notify_one();
  p.staging_done_cv.wait(g, [&] { return !p.staging_writer_copying; });
}

// Hands t's current chunk to the writer (when it is a slot) and points t's window at a new one:
// a recycled slot, else a fresh chunk position (which becomes a slot when `staged`). On failure
// the window is null.
bool claim_chunk(Process& p, ThreadState* t, std::uint32_t tid, bool staged = true) {
  t->cur = t->end = nullptr;
  hand_over_slot(p, t);
  std::uint64_t index;
  if (!(staged && take_free_slot(p, &index)) && !claim_fresh_chunk(p, &index)) return false;
  if (staged) t->staging_slot = index;
  char* c = chunk_address(p, index);
  auto* h = reinterpret_cast<format::ChunkHeader*>(c);
  h->thread = tid;
  h->index = t->chunk_index++;
  h->pid = p.pid;
  __atomic_store_n(&h->magic, format::kChunkMagic, __ATOMIC_RELEASE);
  t->cur = reinterpret_cast<std::uint64_t*>(c + sizeof(format::ChunkHeader));
  t->end = reinterpret_cast<std::uint64_t*>(c + format::kChunkSize);
  return true;
}

void emit_string_def(ThreadState* t, std::uint32_t id, const std::string& s) {
  // Strings longer than a record can hold are cut; the format's length field is 16 bits.
  std::size_t len = std::min<std::size_t>(s.size(), 4000);
  std::size_t words = (len + 8) / 8;  // at least one NUL
  std::uint64_t buf[512] = {};
  std::memcpy(buf, s.data(), len);
  emit(t, format::make_word0(Kind::kStringDef, 0, std::uint16_t((words + 1) * 8), id), buf, words);
}

std::uint32_t intern_string_locked(Process& p, ThreadState* t, const std::string& s) {
  auto it = p.strings.find(s);
  if (it != p.strings.end()) return it->second;
  std::uint32_t id = p.next_string++;
  emit_string_def(t, id, s);
  p.strings.emplace(s, id);
  return id;
}

void on_thread_exit(ThreadState* t);

struct ThreadExitGuard {
  ThreadState* state = nullptr;
  ~ThreadExitGuard() {
    untraced_scope internal;
    if (state != nullptr) on_thread_exit(state);
  }
};
thread_local ThreadExitGuard tls_exit_guard;

void read_environment() {
  const char* timing = std::getenv("LOCKGRAPH_TIMING");
  if (timing != nullptr && std::strcmp(timing, "all") == 0) g_timing_mask = 0;
  if (timing != nullptr && std::strcmp(timing, "none") == 0) g_timing_mask = 0xffffffffu;
}

void atfork_prepare();
void atfork_parent();
void atfork_child();

bool init_process(Process& p) {
  const char* disable = std::getenv("LOCKGRAPH_DISABLE");
  if (disable != nullptr && *disable != '\0' && std::strcmp(disable, "0") != 0) return false;
  read_environment();
  p.pid = std::uint64_t(getpid());
  if (!open_trace_file(p, 0, std::uint64_t(getppid()))) return false;
  g_own_id_high.store(std::uint32_t((p.pid << 40) >> 32), std::memory_order_relaxed);
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  std::atexit([] {
    untraced_scope internal;
    write_trailer(0);
  });
  return true;
}

bool initialized(Process& p) {
  static const bool ok = [&p] {  // thread-safe static init, slow path only
    bool r = init_process(p);
    p.enabled.store(r);
    if (!r) g_tracing_off.store(true, std::memory_order_relaxed);
    return r;
  }();
  return ok && p.enabled.load(std::memory_order_relaxed);
}

void reset_thread_state(ThreadState* t, std::uint32_t tid) {
  t->cur = t->end = nullptr;
  t->access_run = t->access_run_end = nullptr;
  t->access_pair = nullptr;
  t->access_run_word0 = 0;
  t->tid = tid;
  t->chunk_index = 0;
  t->staging_slot = kNoStagingSlot;
  t->sync_epoch = 1;
  t->timing_counter = 0;
  t->in_runtime = false;
  t->exited = false;
  t->name[0] = '\0';
  std::memset(static_cast<void*>(t->site_cache), 0, sizeof t->site_cache);
  std::memset(static_cast<void*>(t->access_filter), 0, sizeof t->access_filter);
  if (t->stacks_recorded != nullptr) std::memset(t->stacks_recorded, 0, t->stacks_recorded_words * sizeof(std::uint64_t));
  t->wait_kind.store(0, std::memory_order_relaxed);
  t->wait_object.store(0, std::memory_order_relaxed);
  t->wait_owner.store(0, std::memory_order_relaxed);
}

void on_thread_exit(ThreadState* t) {
  if (!t->exited) {
    emit_sync(t, Kind::kThreadEnd, 0, 0, 0, 0, 0, 0, 0, 0);
    t->exited = true;
  }
  // The main thread's thread_locals die inside exit(), before static destructors run; those may
  // still destroy traced locks. Keep its state so they are recorded as the main thread's.
  if (syscall(SYS_gettid) == getpid()) return;
  Process& p = process();
  tls_state = nullptr;
  std::lock_guard<std::mutex> g(p.registry_mu);
  // Unlink and recycle: the watchdog only reads states while holding registry_mu.
  for (ThreadState** pp = &p.threads; *pp != nullptr; pp = &(*pp)->next_registered) {
    if (*pp == t) {
      *pp = t->next_registered;
      break;
    }
  }
  t->next_registered = nullptr;
  // Its chunk keeps what it wrote; the rest of the chunk stays zero and ends its records. The
  // thread records nothing more, so its slot can be copied now.
  t->cur = t->end = nullptr;
  hand_over_slot(p, t);
  p.free_states.push_back(t);
}

void atfork_prepare() {
  untraced_scope internal;  // balanced in atfork_parent / atfork_child
  ++tls_untraced;
  Process& p = process();
  ThreadState* t = recording_self();
  std::uint64_t id = p.forks.fetch_add(1, std::memory_order_relaxed) + 1;
  if (t != nullptr) {
    // The fork record sits in the forking thread's own stream: what it did before fork()
    // happens-before everything the child does. The child finds it by (parent pid, fork id).
    std::uint64_t payload[4] = {0, id, 0, 0};
    emit(t, format::make_word0(Kind::kProcessFork, 0, 40, 0), payload, 4);
  }
  // The documented lock order (process_trace.hpp): a fork mid-append must not leave any held.
  p.process_chunk_mu.lock();
  p.intern_mu.lock();
  p.grow_mu.lock();
  p.registry_mu.lock();
  p.staging_mu.lock();
}

void atfork_parent() {
  untraced_scope internal;
  --tls_untraced;  // the scope opened in atfork_prepare
  Process& p = process();
  p.staging_mu.unlock();
  p.registry_mu.unlock();
  p.grow_mu.unlock();
  p.intern_mu.unlock();
  p.process_chunk_mu.unlock();
}

void atfork_child() {
  untraced_scope internal;
  --tls_untraced;  // the scope opened in atfork_prepare
  Process& p = process();
  // The mutexes were locked by this very thread in prepare; unlocking them here is well-defined.
  // The staging writer does not exist in the child, and the slots are the parent's file's: the
  // child starts a pool of its own when it needs one.
  p.staging_writer_started = false;
  p.staging_writer_idle = false;
  p.staging_writer_copying = false;
  p.staging_stopped = false;
  p.staging_free.clear();
  p.staging_full.clear();
  p.staging_mu.unlock();
  p.registry_mu.unlock();
  p.grow_mu.unlock();
  p.intern_mu.unlock();
  p.process_chunk_mu.unlock();
  std::uint64_t fork_id = p.forks.load(std::memory_order_relaxed);
  std::uint64_t ppid = p.pid;
  // Drop the parent's file: the child writes its own.
  for (std::size_t s = 0, end = p.segments_end.exchange(0); s < end; ++s) {
    char* m = p.segments[s].exchange(nullptr);
    if (m != nullptr) munmap(m, kSegmentChunks * format::kChunkSize);
  }
  if (p.header != nullptr) munmap(p.header, format::kHeaderSize);
  p.header = nullptr;
  close(p.fd);
  p.fd = -1;
  p.next_chunk.store(0);
  p.threads = nullptr;
  p.free_states.clear();
  p.strings.clear();
  p.sites.clear();
  p.pc_sites.clear();
  p.creation_sites.clear();
  p.site_names.clear();
  p.next_string = 1;
  p.next_site = 1;
  p.next_tid.store(1);
  p.forks.store(0);
  p.process_state.chunk_index = 0;
  p.process_state.cur = p.process_state.end = nullptr;
  p.process_state.staging_slot = kNoStagingSlot;  // a slot of the parent's file
  p.pid = std::uint64_t(getpid());
  ThreadState* t = tls_state;
  tls_state = nullptr;
  tls_exit_guard.state = nullptr;
  // Until the child's file is open no id is packed: a record of an inherited lock (the parent's
  // pid) never is.
  g_own_id_high.store(0, std::memory_order_relaxed);
  if (!open_trace_file(p, fork_id, ppid)) {
    p.enabled = false;
    g_tracing_off.store(true, std::memory_order_relaxed);
    return;
  }
  g_own_id_high.store(std::uint32_t((p.pid << 40) >> 32), std::memory_order_relaxed);
  std::uint64_t start[6] = {0, 0, 0, p.pid, ppid, fork_id};
  emit_process(Kind::kProcessStart, 0, start, 6);
  if (t != nullptr) {
    // The surviving thread becomes thread 1 of the child.
    reset_thread_state(t, p.next_tid.fetch_add(1));
    t->next_registered = nullptr;
    p.threads = t;
    tls_state = t;
    tls_exit_guard.state = t;
    emit_sync(t, Kind::kThreadStart, 0, 0, 0, 0, 0, std::uint64_t(syscall(SYS_gettid)), 0, 4);
  }
}

}  // namespace

void emit_process(format::Kind kind, std::uint8_t flags, const std::uint64_t* payload, std::size_t n) noexcept {
  Process& p = process();
  if (!p.enabled) return;
  untraced_scope internal;
  std::lock_guard<std::mutex> g(p.process_chunk_mu);
  ThreadState* t = &p.process_state;
  if (t->end - t->cur < static_cast<std::ptrdiff_t>(n + 2)) {
    if (!claim_chunk(p, t, format::kProcessThread)) {
      count_lost(1);
      return;
    }
  }
  emit(t, format::make_word0(kind, flags, std::uint16_t((n + 1) * 8), 0), payload, n);
}

std::string lock_name(std::uint64_t id) {
  Process& p = process();
  std::lock_guard<std::mutex> g(p.intern_mu);
  auto it = p.lock_names.find(id);
  return it == p.lock_names.end() ? std::string() : it->second;
}

std::string site_name(std::uint32_t site) {
  Process& p = process();
  std::lock_guard<std::mutex> g(p.intern_mu);
  if (site < p.site_names.size()) return p.site_names[site];
  return "?";
}

void write_trailer(std::uint64_t reason) noexcept {
  Process& p = process();
  if (!p.enabled || p.header == nullptr) return;
  std::uint64_t threads = p.next_tid.load() - 1;
  std::unique_lock<std::mutex> g(p.grow_mu);
  if (p.closed) return;
  g.unlock();
  stop_staging_writer(p);
  ThreadState trailer;
  if (!claim_chunk(p, &trailer, format::kTrailerThread, /*staged=*/false)) return;
  std::uint64_t payload[7] = {0, 0, mono_ns(), p.next_chunk.load(),
                              __atomic_load_n(&p.header->events_lost, __ATOMIC_RELAXED), threads, reason};
  emit(&trailer, format::make_word0(Kind::kTrailer, 0, 64, 0), payload, 7);
  g.lock();
  p.closed = true;
  // Any later chunk claim fails (and is counted as lost) instead of writing past the file's end.
  std::uint64_t used = p.next_chunk.exchange(UINT64_MAX / 2);
  struct stat st;
  if (fstat(p.fd, &st) == 0 && std::uint64_t(st.st_size) > chunk_offset(used)) {
    // Give back the unused, allocated tail. Chunks past `used` are never handed out again.
    if (ftruncate(p.fd, off_t(chunk_offset(used))) != 0) {
      // Keeping the zero-filled tail is harmless: the reader skips unclaimed chunks.
    }
  }
  msync(p.header, format::kHeaderSize, MS_ASYNC);
}

}  // namespace internal

using namespace internal;

bool enabled() noexcept { return initialized(process()); }

std::uint32_t reserve_tid() noexcept {
  return process().next_tid.fetch_add(1, std::memory_order_relaxed);
}

ThreadState* register_current_thread(std::uint32_t parent_tid, std::uint32_t reserved_tid) noexcept {
  if (tls_state != nullptr) return tls_state;
  untraced_scope internal;
  Process& p = process();
  if (!initialized(p)) return nullptr;
  ThreadState* t = nullptr;
  std::uint32_t tid = reserved_tid != 0 ? reserved_tid : reserve_tid();
  {
    std::lock_guard<std::mutex> g(p.registry_mu);
    if (!p.free_states.empty()) {
      t = p.free_states.back();
      p.free_states.pop_back();
    }
  }
  if (t == nullptr) t = new (std::nothrow) ThreadState();
  if (t == nullptr) return nullptr;
  reset_thread_state(t, tid);
  tls_state = t;
  tls_exit_guard.state = t;
  {
    std::lock_guard<std::mutex> g(p.registry_mu);
    t->next_registered = p.threads;
    p.threads = t;
  }
  if (tid == 1 && p.process_state.chunk_index == 0) {
    std::uint64_t start[6] = {0, 0, 0, p.pid, p.header->ppid, 0};
    emit_process(Kind::kProcessStart, 0, start, 6);
  }
  emit_sync(t, Kind::kThreadStart, 0, 0, parent_tid, 0, 0, std::uint64_t(syscall(SYS_gettid)), 0, 4);
  return t;
}

void refill(ThreadState* t, std::size_t words) noexcept {
  untraced_scope internal;
  t->access_run = t->access_run_end = nullptr;  // a run never spans chunks: the reader may lose one without the other
  t->access_pair = nullptr;
  Process& p = process();
  if (words * 8 + sizeof(format::ChunkHeader) > format::kChunkSize || !p.enabled ||
      !claim_chunk(p, t, t->tid)) {
    count_lost(1);
    t->cur = t->end = nullptr;
  }
}

// Runs fn(p) under intern_mu with the thread marked as inside the runtime (what it allocates and
// locks there is not the program's), as every interning does: strings, lock names, sites.
template <class Fn>
std::uint32_t under_intern_mu(ThreadState* t, Fn fn) {
  untraced_scope internal;
  Process& p = process();
  bool was = t->in_runtime;
  t->in_runtime = true;
  std::lock_guard<std::mutex> g(p.intern_mu);
  std::uint32_t id = fn(p);
  t->in_runtime = was;
  return id;
}

std::uint32_t intern_string(ThreadState* t, const char* s) noexcept {
  if (s == nullptr) return 0;
  return under_intern_mu(t, [&](Process& p) { return intern_string_locked(p, t, s); });
}

std::uint32_t intern_lock_name(ThreadState* t, std::uint64_t id, const char* name) noexcept {
  if (name == nullptr) return 0;
  return under_intern_mu(t, [&](Process& p) {
    const std::uint32_t string_id = intern_string_locked(p, t, name);
    try {
      p.lock_names[id] = name;
    } catch (const std::bad_alloc&) {  // the name is for the watchdog's messages only
    }
    return string_id;
  });
}

void forget_lock_name(std::uint64_t id) noexcept {
  Process& p = process();
  std::lock_guard<std::mutex> g(p.intern_mu);
  p.lock_names.erase(id);
}

std::uint32_t intern_site_slow(ThreadState* t, const char* site_file, const char* function, unsigned line) noexcept {
  const std::uint32_t id = under_intern_mu(t, [&](Process& p) -> std::uint32_t {
    auto key = std::make_pair(std::string(site_file), line);
    if (auto it = p.sites.find(key); it != p.sites.end()) return it->second;
    std::uint32_t file = intern_string_locked(p, t, key.first);
    std::uint32_t fn = function ? intern_string_locked(p, t, function) : 0;
    const std::uint32_t fresh = p.next_site++;
    std::uint64_t payload[4] = {file, line, fn, 0};
    emit(t, format::make_word0(Kind::kSiteDef, 0, 40, fresh), payload, 4);
    p.sites.emplace(key, fresh);
    if (p.site_names.size() <= fresh) p.site_names.resize(fresh + 1);
    p.site_names[fresh] = key.first + ":" + std::to_string(line);
    return fresh;
  });
  t->site_cache[site_cache_slot(site_file, line)] = SiteCacheEntry{site_file, line, id};
  return id;
}

namespace {

constexpr std::uint64_t kSiteCallers = 4;  // frames of stack kept per return-address site and thread
static_assert(std::tuple_size_v<decltype(Process::creation_sites)::key_type> == 1 + kSiteCallers);

// Marks site `id` as having t's stack recorded; false when it already had (or when the bitmap
// cannot grow: the thread's stack is then left out, never recorded twice).
bool first_stack_of_thread(ThreadState* t, std::uint32_t id) {
  const std::uint32_t word = id / 64;
  if (word >= t->stacks_recorded_words) {
    const std::uint32_t words = std::max<std::uint32_t>(word + 1, t->stacks_recorded_words * 2);
    auto* grown = static_cast<std::uint64_t*>(std::realloc(t->stacks_recorded, words * sizeof(std::uint64_t)));
    if (grown == nullptr) return false;
    std::memset(grown + t->stacks_recorded_words, 0, (words - t->stacks_recorded_words) * sizeof(std::uint64_t));
    t->stacks_recorded = grown;
    t->stacks_recorded_words = words;
  }
  const std::uint64_t bit = std::uint64_t(1) << (id % 64);
  if (t->stacks_recorded[word] & bit) return false;
  t->stacks_recorded[word] |= bit;
  return true;
}

// The return addresses of a short stack: up to kSiteCallers frames, innermost first.
struct ShortStack {
  const void* frames[kSiteCallers] = {};
  std::uint64_t n = 0;
};

// The frames backtrace() finds above return address `addr` — or, with `from_addr`, `addr` and
// the frames above it (`addr` alone when the walk does not reach it).
ShortStack stack_at(const void* addr, bool from_addr) {
  void* frames[24];
  int n = backtrace(frames, 24);
  int at = 0;
  while (at < n && frames[at] != addr) ++at;
  ShortStack s;
  if (from_addr && at == n) {
    s.frames[s.n++] = addr;
    return s;
  }
  for (int i = from_addr ? at : at + 1; i < n && s.n < kSiteCallers; ++i) s.frames[s.n++] = frames[i];
  return s;
}

// Writes `stack` into `out` as n, then (module string, offset) pairs (frames outside every module
// left out); returns the words written. Called with intern_mu held.
std::size_t stack_words(Process& p, ThreadState* t, const ShortStack& stack, std::uint64_t* out) {
  std::uint64_t k = 0;
  for (std::uint64_t i = 0; i < stack.n; ++i) {
    Dl_info ci{};
    if (dladdr(stack.frames[i], &ci) == 0 || ci.dli_fname == nullptr) continue;
    out[1 + 2 * k] = intern_string_locked(p, t, ci.dli_fname);
    out[2 + 2 * k] = reinterpret_cast<std::uintptr_t>(stack.frames[i]) - reinterpret_cast<std::uintptr_t>(ci.dli_fbase);
    ++k;
  }
  out[0] = k;
  return 1 + 2 * k;
}

// The callers above return address `addr`, written as stack_words() does. Called with intern_mu held.
std::size_t caller_frames(Process& p, ThreadState* t, const void* addr, std::uint64_t* out) {
  return stack_words(p, t, stack_at(addr, false), out);
}

// Writes a new kSiteDefPc for `addr` and returns its id, or 0 for a data address outside every
// module. A code site's stack is `stack` when given (a creation site), else the callers
// backtrace() finds above `addr`. Called with intern_mu held.
std::uint32_t define_address_site(Process& p, ThreadState* t, const void* addr, bool data, const ShortStack* stack) {
  Dl_info info{};
  std::uint64_t offset = 0;
  std::uint32_t module = 0;
  if (dladdr(addr, &info) != 0 && info.dli_fname != nullptr) {
    module = intern_string_locked(p, t, info.dli_fname);
    offset = reinterpret_cast<std::uintptr_t>(addr) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  }
  if (module == 0 && data) return 0;
  const std::uint32_t id = p.next_site++;
  std::uint64_t payload[4 + 2 * kSiteCallers] = {reinterpret_cast<std::uintptr_t>(addr), module, offset, 0};
  std::size_t words = 3;
  if (!data) {
    words += stack != nullptr ? stack_words(p, t, *stack, payload + 3) : caller_frames(p, t, addr, payload + 3);
    first_stack_of_thread(t, id);
  }
  const std::uint8_t flags = data ? 1 : stack != nullptr ? format::kSiteByCaller : 0;
  emit(t, format::make_word0(Kind::kSiteDefPc, flags, std::uint16_t((words + 1) * 8), id), payload, words);
  if (p.site_names.size() <= id) p.site_names.resize(id + 1);
  // The watchdog's live lines name sites this way: "prog+0x12b5" is what addr2line -e prog takes.
  const char* path = module != 0 && info.dli_fname[0] != '\0' ? info.dli_fname : nullptr;
  const char* base = path != nullptr ? std::strrchr(path, '/') : nullptr;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s+0x%llx", base != nullptr ? base + 1 : path != nullptr ? path : "pc",
                static_cast<unsigned long long>(offset));
  p.site_names[id] = buf;
  return id;
}

// Interns a kSiteDefPc for `addr` under `key` (the pc, or the address with the top bit set for
// data sites); returns 0 for a data address outside every module. A code site's definition holds
// the stack of the thread that reached it first; each other thread records its own stack there
// once (kSiteCallers), so a report shows every thread the path it really took.
std::uint32_t intern_address_site(ThreadState* t, const void* addr, std::uintptr_t key, bool data) {
  return under_intern_mu(t, [&](Process& p) -> std::uint32_t {
    if (auto it = p.pc_sites.find(key); it != p.pc_sites.end()) {
      const std::uint32_t id = it->second;
      if (!data && id != 0 && first_stack_of_thread(t, id)) {
        std::uint64_t payload[1 + 2 * kSiteCallers] = {};
        const std::size_t words = caller_frames(p, t, addr, payload);
        emit(t, format::make_word0(Kind::kSiteCallers, 0, std::uint16_t((words + 1) * 8), id), payload, words);
      }
      return id;
    }
    const std::uint32_t id = define_address_site(p, t, addr, data, nullptr);
    p.pc_sites.emplace(key, id);
    return id;
  });
}

}  // namespace

std::uint32_t intern_pc_site(ThreadState* t, const void* pc) noexcept {
  std::uint32_t id = intern_address_site(t, pc, reinterpret_cast<std::uintptr_t>(pc), false);
  t->site_cache[site_cache_slot(pc, ~0u)] = SiteCacheEntry{static_cast<const char*>(pc), ~0u, id};
  return id;
}

std::uint32_t creation_site_id(ThreadState* t, const void* pc, const void* caller) noexcept {
  // Keyed by the whole short stack, not by `caller` alone: when that caller is itself a library
  // function, the program's lines that reach it differ only further up.
  const ShortStack stack = stack_at(caller, true);
  std::array<std::uintptr_t, 1 + kSiteCallers> key{reinterpret_cast<std::uintptr_t>(pc)};
  for (std::uint64_t i = 0; i < stack.n; ++i) key[1 + i] = reinterpret_cast<std::uintptr_t>(stack.frames[i]);
  return under_intern_mu(t, [&](Process& p) -> std::uint32_t {
    if (auto it = p.creation_sites.find(key); it != p.creation_sites.end()) return it->second;
    const std::uint32_t id = define_address_site(p, t, pc, false, &stack);
    p.creation_sites.emplace(key, id);
    return id;
  });
}

std::uint32_t intern_data_site(ThreadState* t, const void* addr) noexcept {
  return intern_address_site(t, addr, reinterpret_cast<std::uintptr_t>(addr) | (std::uintptr_t(1) << 63), true);
}

std::uint64_t new_object_id(bool process_shared) noexcept {
  Process& p = process();
  // Objects constructed during static initialization come before any recording: the pid in the
  // id must be known all the same.
  (void)initialized(p);
  return (process_shared ? format::kProcessSharedObject : 0) | (p.pid << 40) |
         p.next_object.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t now_ns() noexcept { return mono_ns(); }

void flush() noexcept {
  Process& p = process();
  if (!p.enabled || p.header == nullptr) return;
  msync(p.header, format::kHeaderSize, MS_SYNC);
  for (std::size_t s = 0, end = p.segments_end.load(std::memory_order_acquire); s < end; ++s) {
    char* m = p.segments[s].load(std::memory_order_acquire);
    if (m != nullptr) msync(m, kSegmentChunks * format::kChunkSize, MS_SYNC);
  }
  fdatasync(p.fd);  // the chunks the staging writer copied with pwritev()
}

void shutdown() noexcept { write_trailer(0); }

void record_module_map() noexcept {
  if (!enabled()) return;
  untraced_scope internal;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void*) -> int {
        std::uint64_t lo = ~std::uint64_t(0), hi = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          lo = std::min<std::uint64_t>(lo, info->dlpi_addr + ph.p_vaddr);
          hi = std::max<std::uint64_t>(hi, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
        }
        char path[4096] = {};
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
          std::snprintf(path, sizeof path, "%s", info->dlpi_name);
        } else {
          internal::program_name(path, sizeof path);  // the main program has no name here
        }
        if (hi <= lo || path[0] != '/') return 0;  // the vDSO and other pseudo-modules
        std::uint64_t payload[3 + 512] = {info->dlpi_addr, lo, hi};
        std::size_t len = std::min<std::size_t>(std::strlen(path), 8 * 500);
        std::memcpy(&payload[3], path, len);
        internal::emit_process(Kind::kModule, 0, payload, 3 + (len + 8) / 8);
        return 0;
      },
      nullptr);
}

const char* trace_path() noexcept {
  Process& p = process();
  return p.enabled ? p.path.c_str() : "";
}

void thread_exiting(ThreadState* t) noexcept {
  if (t == nullptr || t->exited) return;
  emit_sync(t, Kind::kThreadEnd, 0, 0, 0, 0, 0, 0, 0, 0);
  t->exited = true;
}

void begin_wait(ThreadState* t, WaitKind kind, std::uint64_t object, std::uint32_t owner,
                std::uint32_t site) noexcept {
  t->wait_object.store(object, std::memory_order_relaxed);
  t->wait_owner.store(owner, std::memory_order_relaxed);
  t->wait_site.store(site, std::memory_order_relaxed);
  t->wait_since_ns.store(mono_ns(), std::memory_order_relaxed);
  t->wait_generation.fetch_add(1, std::memory_order_relaxed);
  t->wait_kind.store(static_cast<std::uint8_t>(kind), std::memory_order_release);
  start_watchdog_once();  // the first blocking wait of the process starts it
}

void end_wait(ThreadState* t) noexcept {
  t->wait_kind.store(0, std::memory_order_release);
  t->wait_generation.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t annotation_slot(const void* key, std::uint64_t* seq) noexcept {
  static std::atomic<std::uint64_t> slots[4096];
  auto a = reinterpret_cast<std::uintptr_t>(key);
  std::size_t slot = ((a >> 3) ^ (a >> 15)) & 4095;
  *seq = slots[slot].fetch_add(1, std::memory_order_acq_rel) + 1;
  return format::kAnnotationTag | slot;
}

#ifndef LOCKGRAPH_PRELOAD_BUILD
// Lets `lockgraph run` see that a program records itself (it then does not preload the
// interposer, which would record every lock twice). Searched for in the program's file.
extern "C" [[gnu::used]] const char lockgraph_static_runtime_marker[] = "lockgraph-static-runtime-v1";
#endif

// Registers the main thread at load time so it is thread 1 and its start comes first.
__attribute__((constructor)) static void lockgraph_register_main() { (void)self(); }

}  // namespace lockgraph::rt

namespace lockgraph::detail {

[[gnu::noinline]] const void* code_address() noexcept { return __builtin_return_address(0); }

}  // namespace lockgraph::detail
