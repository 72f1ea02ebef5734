// Tracer overhead: traced lockgraph::mutex vs raw std::mutex (uncontended and two threads
// contended), one recorded memory access, and the bytes of trace each operation costs.
// std::mutex is measured in a process that has started a thread, as every traced process has
// (see BM_StdMutexUncontendedNoThreadEver for why that matters).
// Built twice by CMake: normally, and (bench_std_tsan) with -fsanitize=thread for the std::mutex
// cases only, so bench/compare.sh can report ratios against both in the same run.
#include <benchmark/benchmark.h>

#include <sys/single_threaded.h>

#include <mutex>
#include <thread>

#ifndef LOCKGRAPH_BENCH_STD_ONLY
#include <sys/stat.h>

#include "lockgraph/lockgraph.hpp"
#endif

namespace {

// glibc drops the lock prefix of its mutexes while a process has never started a second thread
// (__libc_single_threaded): lock+unlock is then two plain read-modify-writes, 3-4x cheaper than
// the locked instructions every program with threads pays. A traced process always has threads
// (the trace writer's, and the program's own: a lock protects nothing otherwise), so the
// baseline the targets compare with is std::mutex in a process that has started a thread. The
// single-threaded figure is kept as a row of its own; it must run first (registration order),
// before any case starts a thread, and refuses to measure when it cannot.
void lock_unlock_loop(benchmark::State& state) {
  static std::mutex m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
}

void BM_StdMutexUncontendedNoThreadEver(benchmark::State& state) {
  if (!__libc_single_threaded) {
    state.SkipWithError("a thread already ran in this process; run this case first");
    return;
  }
  lock_unlock_loop(state);
}
BENCHMARK(BM_StdMutexUncontendedNoThreadEver);

void BM_StdMutexUncontended(benchmark::State& state) {
  static const bool threaded = [] {
    std::thread([] {}).join();
    return !__libc_single_threaded;
  }();
  if (!threaded) {
    state.SkipWithError("glibc still treats the process as single-threaded");
    return;
  }
  lock_unlock_loop(state);
}
BENCHMARK(BM_StdMutexUncontended);

void BM_StdMutexContended2(benchmark::State& state) {
  static std::mutex m;
  static long counter = 0;
  for (auto _ : state) {
    m.lock();
    benchmark::DoNotOptimize(++counter);
    m.unlock();
  }
}
BENCHMARK(BM_StdMutexContended2)->Threads(2)->UseRealTime();

void BM_PlainAccess(benchmark::State& state) {
  static volatile int x = 0;
  for (auto _ : state) x = x + 1;
}
BENCHMARK(BM_PlainAccess);

#ifndef LOCKGRAPH_BENCH_STD_ONLY
std::uint64_t trace_bytes() {
  struct stat st {};
  const char* p = lockgraph::rt::trace_path();
  return (p[0] && stat(p, &st) == 0) ? std::uint64_t(st.st_size) : 0;
}

// Sets the counter trace_bytes_per_op: the bytes of trace the calling thread wrote between its
// construction and the end of the benchmark's loop, per iteration (chunk headers included).
class TraceBytesPerOp {
 public:
  TraceBytesPerOp() : t_(lockgraph::rt::self()), before_(offset()), chunks_before_(t_ ? t_->chunk_index : 0) {}
  void report(benchmark::State& state) const {
    if (t_ == nullptr || t_->cur == nullptr) return;
    const double bytes = double(t_->chunk_index - chunks_before_) * lockgraph::format::kChunkSize + offset() - before_;
    state.counters["trace_bytes_per_op"] = bytes / double(state.iterations());
  }

 private:
  double offset() const {  // bytes used in the current chunk
    if (t_ == nullptr || t_->cur == nullptr) return 0;
    return double(lockgraph::format::kChunkSize) -
           double(reinterpret_cast<const char*>(t_->end) - reinterpret_cast<const char*>(t_->cur));
  }
  lockgraph::rt::ThreadState* t_;
  double before_;
  std::uint64_t chunks_before_;
};

void BM_TracedMutexUncontended(benchmark::State& state) {
  static lockgraph::mutex m("bench");
  TraceBytesPerOp bytes;
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
  bytes.report(state);
}
BENCHMARK(BM_TracedMutexUncontended);

void BM_TracedMutexContended2(benchmark::State& state) {
  static lockgraph::mutex m("bench-contended");
  static long counter = 0;
  for (auto _ : state) {
    m.lock();
    benchmark::DoNotOptimize(++counter);
    m.unlock();
  }
}
BENCHMARK(BM_TracedMutexContended2)->Threads(2)->UseRealTime();

// A recorded access, new each time (the filter would drop repeats of one address): a write to
// the next slot of a large array per iteration (4 bytes of trace each: a pair word's half).
void BM_RecordedAccess(benchmark::State& state) {
  static std::vector<int> data(1 << 20);
  std::size_t i = 0;
  TraceBytesPerOp bytes;
  for (auto _ : state) {
    LG_WRITE(&data[i], sizeof(int));
    i = (i + 1) & ((1 << 20) - 1);
  }
  bytes.report(state);
}
BENCHMARK(BM_RecordedAccess);

// Recorded accesses that never land near the one before (spread over 1 GiB of addresses, which are
// recorded, not touched): each takes a full 8-byte word instead of a pair word's 4-byte half.
void BM_RecordedAccessScattered(benchmark::State& state) {
  static char base_object;
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(&base_object);
  std::uint64_t i = 0;
  TraceBytesPerOp bytes;
  for (auto _ : state) {
    const std::uintptr_t offset = std::uintptr_t((++i * 0x9E3779B97F4A7C15ull) >> 40) << 6;
    LG_WRITE(reinterpret_cast<const void*>(base + offset), sizeof(int));
  }
  bytes.report(state);
}
BENCHMARK(BM_RecordedAccessScattered);

// The common case in loops: the same address again before any synchronization (filtered).
void BM_FilteredAccess(benchmark::State& state) {
  static int x = 0;
  for (auto _ : state) LG_WRITE(&x, sizeof x);
}
BENCHMARK(BM_FilteredAccess);

void BM_TraceFileSize(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(trace_bytes());
  state.counters["trace_file_bytes"] = double(trace_bytes());
}
BENCHMARK(BM_TraceFileSize)->Iterations(1);
#endif

}  // namespace

BENCHMARK_MAIN();
