// Internal: the process-wide state of the recorder — the trace file, its mapped segments, the
// thread registry and the intern tables. Shared by runtime.cpp, fork handling and the watchdog.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "lockgraph/runtime.hpp"

namespace lockgraph::rt::internal {

inline constexpr std::size_t kSegmentChunks = 512;  // 8 MiB of file per mapping
inline constexpr std::size_t kMaxSegments = 65536;  // 512 GiB of trace per process
inline constexpr std::uint64_t kMaxChunks = std::uint64_t(kSegmentChunks) * kMaxSegments;
// The writer is woken once this many filled slots wait: one wake-up per 128 KiB of trace, not
// one futex call per chunk on the recording thread.
inline constexpr std::size_t kStagingWakeBatch = 8;
// The writer copies filled slots to the file up to this many per pwritev() (512 KiB).
inline constexpr std::size_t kCopyRun = 32;
// The writer keeps up to this many slots free after each batch (1 MiB; twice the batch it copied,
// at most this), making fresh ones as needed.
inline constexpr std::size_t kSpareSlots = 64;

// The addresses of the mapped segments, kMaxSegments of them (512 KiB), in static zeroed storage:
// a process touches only the pages it uses. (An array member zeroed when the Process was made cost
// every traced process 128 page faults, ~2 ms on the project's VM, before its first record; a
// program that never records paid them too.) One table per process: Process is a singleton.
class SegmentTable {
 public:
  std::atomic_ref<char*> operator[](std::size_t s) noexcept { return std::atomic_ref<char*>(slots_[s]); }

 private:
  static inline char* slots_[kMaxSegments];  // zero-initialized (bss), never constructed at run time
};

struct Process {
  // Locks taken only on slow paths. Nesting order (checked by the tsan preset):
  // process_chunk_mu -> intern_mu -> grow_mu -> registry_mu -> staging_mu.
  std::mutex grow_mu;
  std::mutex intern_mu;
  std::mutex registry_mu;
  std::mutex process_chunk_mu;

  std::atomic<bool> enabled{false};
  bool closed = false;  // guarded by grow_mu
  int fd = -1;
  std::string path;
  format::FileHeader* header = nullptr;

  std::atomic<std::uint64_t> next_chunk{0};  // the next unused chunk position in the file
  // Segment s maps chunks [s * kSegmentChunks, (s + 1) * kSegmentChunks) once a chunk there was
  // handed out to be written in place; segments holding only copied chunks stay unmapped.
  SegmentTable segments;
  std::atomic<std::size_t> segments_end{0};  // one past the highest mapped segment

  std::atomic<std::uint32_t> next_tid{1};
  std::atomic<std::uint64_t> next_object{1};
  std::atomic<std::uint64_t> forks{0};
  std::uint64_t pid = 0;

  // Staging (docs/trace-format.md, "Staged chunks"). Threads record into chunk slots of the file
  // whose pages stay mapped and hot; the writer thread copies each filled slot to a fresh chunk
  // position with pwritev() and recycles it. A first write to a fresh page of a shared mapping
  // costs a page fault (several microseconds on a virtual machine), which used to land on the
  // recording thread once per 4 KiB. staging_mu is a leaf: nothing else is locked under it.
  std::mutex staging_mu;
  std::condition_variable staging_cv;
  std::vector<std::uint64_t> staging_free;  // staging_mu: recycled slots, reused last in, first out
  std::vector<std::uint64_t> staging_full;  // staging_mu: filled slots the writer has not taken yet
  bool staging_writer_started = false;      // staging_mu
  bool staging_writer_idle = false;         // staging_mu: waiting for a wake-up
  bool staging_writer_copying = false;      // staging_mu: a batch is being copied
  bool staging_stopped = false;             // staging_mu: the trailer is written, no more copies
  std::condition_variable staging_done_cv;  // the writer finished a batch

  ThreadState* threads = nullptr;  // registry_mu
  std::vector<ThreadState*> free_states;  // registry_mu
  ThreadState process_state;      // writes the process chunk (tid 0), under process_chunk_mu

  std::unordered_map<std::string, std::uint32_t> strings;                 // intern_mu
  std::map<std::pair<std::string, unsigned>, std::uint32_t> sites;        // intern_mu
  std::unordered_map<std::uintptr_t, std::uint32_t> pc_sites;             // intern_mu
  std::map<std::array<std::uintptr_t, 5>, std::uint32_t> creation_sites;  // intern_mu: pc and a short stack
  std::vector<std::string> site_names;                                    // intern_mu, for messages
  std::unordered_map<std::uint64_t, std::string> lock_names;              // intern_mu, for messages
  std::uint32_t next_string = 1;
  std::uint32_t next_site = 1;
};

Process& process() noexcept;
void count_lost(std::uint64_t n) noexcept;
void program_name(char* out, std::size_t size);  // the running program's path
// Writes a record into the process chunk (thread 0); used for process-level facts.
void emit_process(format::Kind kind, std::uint8_t flags, const std::uint64_t* payload, std::size_t n) noexcept;
std::string site_name(std::uint32_t site);  // "file:line" for the watchdog's message
std::string lock_name(std::uint64_t id);    // the name a wrapper lock was created with, or ""
void start_watchdog_once() noexcept;
void write_trailer(std::uint64_t reason) noexcept;

}  // namespace lockgraph::rt::internal
