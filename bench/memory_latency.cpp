// memory_latency — how long a dependent load that misses the cache takes on each CPU, now.
//
// On the project's VM the two vCPUs are not alike, and not alike over time: in one minute a
// pointer chase over 1 MiB took 12.8 ns per load on CPU 0 and 7.7 ns on CPU 1 (the analyzer's
// main thread ran 1.7x slower there: it is bound by such loads), twenty minutes later 8.1 and
// 7.7 ns. A benchmark's timings mean little without the state of the machine they ran on, so the
// bench scripts print this before and after their runs (docs/performance.md, "Measuring on this VM").
//
// Usage: bench_memory_latency [BYTES...]   (default 1 MiB and 16 MiB)
// Output, one line per CPU: "cpu N: 1 MiB 7.7 ns, 16 MiB 152.9 ns".
// Cost: ~0.1 s per CPU and size.
#include <sched.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

// One random cycle through all slots (Sattolo's algorithm), so every load depends on the one
// before and the hardware prefetcher cannot guess the next address.
std::vector<std::uint64_t> random_cycle(std::size_t slots) {
  std::vector<std::uint64_t> next(slots);
  std::iota(next.begin(), next.end(), std::uint64_t{0});
  std::mt19937_64 rng(42);
  for (std::size_t i = slots - 1; i > 0; --i) {
    std::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(next[i], next[pick(rng)]);
  }
  return next;
}

double nanoseconds_per_load(const std::vector<std::uint64_t>& next) {
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < next.size(); ++i) at = next[at];  // warm: pages mapped, caches filled
  constexpr int kLoads = 4000000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLoads; ++i) at = next[at];
  const auto end = std::chrono::steady_clock::now();
  if (at == ~std::uint64_t{0}) std::puts("");  // keeps the chase from being optimized away
  return std::chrono::duration<double, std::nano>(end - start).count() / kLoads;
}

std::string size_text(std::size_t bytes) {
  return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(argv[i], &end, 10);
    if (end == argv[i] || *end != '\0' || v < 4096) {
      std::fprintf(stderr, "bench_memory_latency: %s: a size in bytes (at least 4096) expected\n", argv[i]);
      return 2;
    }
    sizes.push_back(static_cast<std::size_t>(v));
  }
  if (sizes.empty()) sizes = {std::size_t{1} << 20, std::size_t{16} << 20};
  std::vector<std::vector<std::uint64_t>> chains;
  for (std::size_t bytes : sizes) chains.push_back(random_cycle(bytes / sizeof(std::uint64_t)));

  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    std::perror("bench_memory_latency: sched_getaffinity");
    return 2;
  }
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) continue;
    std::string line = "cpu " + std::to_string(cpu) + ":";
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      char ns[32];
      std::snprintf(ns, sizeof ns, " %.1f ns", nanoseconds_per_load(chains[i]));
      line += (i ? "," : "") + std::string(" ") + size_text(sizes[i]) + ns;
    }
    std::puts(line.c_str());
  }
  return 0;
}
