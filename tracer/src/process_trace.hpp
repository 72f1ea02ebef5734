// Internal: the process-wide state of the recorder — the trace file, its mapped segments, the
// thread registry and the intern tables. Shared by runtime.cpp, fork handling and the watchdog.
#pragma once

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

struct Process {
  // Locks taken only on slow paths. Nesting order (checked by the tsan preset):
  // process_chunk_mu -> intern_mu -> grow_mu -> registry_mu -> provision_mu.
  std::mutex grow_mu;
  std::mutex intern_mu;
  std::mutex registry_mu;
  std::mutex process_chunk_mu;

  std::atomic<bool> enabled{false};
  bool closed = false;  // guarded by grow_mu
  int fd = -1;
  std::string path;
  format::FileHeader* header = nullptr;

  std::atomic<std::uint64_t> next_chunk{0};
  std::atomic<std::uint64_t> mapped_chunks{0};
  std::atomic<char*> segments[kMaxSegments] = {};

  std::atomic<std::uint32_t> next_tid{1};
  std::atomic<std::uint64_t> next_object{1};
  std::atomic<std::uint64_t> forks{0};
  std::uint64_t pid = 0;

  // The provisioner maps (and pre-faults) trace segments ahead of the recording threads, so they
  // never pay for page allocation on their own time. provision_mu is never nested with the others.
  std::mutex provision_mu;
  std::condition_variable provision_cv;
  std::uint64_t provision_target = 0;     // provision_mu: map chunks below this
  bool provisioner_started = false;       // provision_mu
  std::atomic<std::uint64_t> provision_requested{0};

  ThreadState* threads = nullptr;  // registry_mu
  std::vector<ThreadState*> free_states;  // registry_mu
  ThreadState process_state;      // writes the process chunk (tid 0), under process_chunk_mu

  std::unordered_map<std::string, std::uint32_t> strings;                 // intern_mu
  std::map<std::pair<std::string, unsigned>, std::uint32_t> sites;        // intern_mu
  std::unordered_map<std::uintptr_t, std::uint32_t> pc_sites;             // intern_mu
  std::vector<std::string> site_names;                                    // intern_mu, for messages
  std::uint32_t next_string = 1;
  std::uint32_t next_site = 1;
};

Process& process() noexcept;
void count_lost(std::uint64_t n) noexcept;
void program_name(char* out, std::size_t size);  // the running program's path
// Writes a record into the process chunk (thread 0); used for process-level facts.
void emit_process(format::Kind kind, std::uint8_t flags, const std::uint64_t* payload, std::size_t n) noexcept;
std::string site_name(std::uint32_t site);  // "file:line" for the watchdog's message
void start_watchdog_once() noexcept;
void write_trailer(std::uint64_t reason) noexcept;

}  // namespace lockgraph::rt::internal
