// Internal: run_pipelined() — a producer of events (the STD parser, the native trace's replay) on
// a second thread, its events handed in order to a consumer (the analysis) on the calling thread,
// in batches through a bounded queue, so reading and analysis overlap on two cores.
//
// Contract: consume() sees exactly the batches produce() emitted, in order, on the calling thread;
// produce() returns its result (the parse's success, the replay's statistics), which
// run_pipelined() returns once every event produced was consumed. produce() must not touch what
// consume() uses. An exception from consume() stops the producer and is rethrown; one from
// produce() is rethrown after the events before it were consumed.
// Cost: one thread, 4 batches (the producer's batch size) in flight; a copy and a mutex round trip
// per batch, nothing per event. LOCKGRAPH_PIPELINE_CPUS / LOCKGRAPH_PIPELINE_STATS pin its two
// threads and time their waits, for benchmarks (pipeline_diagnostics.hpp).
//
// run_ordered() — pieces of work done on several threads, their results handed in order to a
// consumer on the calling thread (the STD reader: slices of the file parsed on every core).
// Contract: work(i) runs once for each i in [0, n) that is reached, on a worker thread; deliver(i,
// result) runs on the calling thread for i = 0, 1, ... in order, and returning false stops the run
// (work already started is finished and dropped). At most `in_flight` results wait or are made
// at once. An exception from work(i) is rethrown in order, when i would be delivered; one from
// deliver() stops the workers and is rethrown.
// Cost: `workers` threads for the run, a mutex round trip per piece.
//
// (oneTBB's parallel_pipeline does the same; it is not used because Debian's libtbb is not built
// with ThreadSanitizer, whose preset would then see no ordering in its hand-offs: see
// docs/performance.md, "Prediction".)
#pragma once

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "pipeline_diagnostics.hpp"

namespace lockgraph::analysis {

template <class Event>
using EventBatchSink = std::function<void(const Event* events, std::size_t count)>;

template <class Event, class Result>
Result run_pipelined(const std::function<Result(const EventBatchSink<Event>&)>& produce,
                     const EventBatchSink<Event>& consume) {
  static_assert(std::is_trivially_copyable_v<Event>, "batches are refilled with memcpy");
  constexpr std::size_t kInFlight = 4;
  PipelineDiagnostics diagnostics;  // destroyed last: after the producer is joined
  struct Cancelled {};
  std::mutex m;
  std::condition_variable changed;
  // A buffer keeps its size when recycled (only `n` changes), so refilling it is one bulk copy.
  struct Batch {
    std::vector<Event> events;
    std::size_t n = 0;
  };
  std::deque<Batch> full;
  std::vector<Batch> spare;
  bool done = false, cancelled = false;
  Result result{};
  std::exception_ptr producer_error;

  auto hand_over = [&](const Event* events, std::size_t n) {
    Batch batch;
    {
      std::lock_guard<std::mutex> lock(m);
      if (!spare.empty()) {
        batch = std::move(spare.back());
        spare.pop_back();
      }
    }
    // Outside the lock: the consumer keeps going meanwhile. One memcpy: an element-wise assign
    // was ~13 instructions per event on the producer.
    if (batch.events.size() < n) batch.events.resize(n);
    std::memcpy(static_cast<void*>(batch.events.data()), events, n * sizeof(Event));
    batch.n = n;
    std::unique_lock<std::mutex> lock(m);
    const auto waiting = diagnostics.wait_begins();
    changed.wait(lock, [&] { return full.size() < kInFlight || cancelled; });
    diagnostics.producer_waited(waiting);
    if (cancelled) throw Cancelled{};
    full.push_back(std::move(batch));
    changed.notify_all();
  };
  std::thread producer([&] {
    diagnostics.on_producer_start();
    Result ok{};
    std::exception_ptr error;
    try {
      ok = produce(hand_over);
    } catch (const Cancelled&) {
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(m);
    done = true;
    result = ok;
    producer_error = error;
    changed.notify_all();
  });
  try {
    for (;;) {
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(m);
        const auto waiting = diagnostics.wait_begins();
        changed.wait(lock, [&] { return !full.empty() || done; });
        diagnostics.consumer_waited(waiting);
        if (full.empty()) break;
        batch = std::move(full.front());
        full.pop_front();
        changed.notify_all();
      }
      consume(batch.events.data(), batch.n);
      std::lock_guard<std::mutex> lock(m);
      spare.push_back(std::move(batch));
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(m);
      cancelled = true;
      changed.notify_all();
    }
    producer.join();
    throw;
  }
  producer.join();
  if (producer_error) std::rethrow_exception(producer_error);
  return result;
}

template <class Result>
void run_ordered(std::size_t n, unsigned workers, std::size_t in_flight, const std::function<Result(std::size_t)>& work,
                 const std::function<bool(std::size_t, Result&)>& deliver) {
  if (workers == 0) workers = 1;
  if (in_flight < workers) in_flight = workers;
  struct Slot {
    std::optional<Result> result;
    std::exception_ptr error;
  };
  std::mutex m;
  std::condition_variable changed;
  std::deque<Slot> window;  // pieces [delivered, delivered + window.size()) started or done
  std::size_t next = 0, delivered = 0;
  bool stopped = false;

  auto worker_main = [&] {
    std::unique_lock<std::mutex> lock(m);
    for (;;) {
      changed.wait(lock, [&] { return stopped || next >= n || next - delivered < in_flight; });
      if (stopped || next >= n) return;
      const std::size_t i = next++;
      window.emplace_back();
      lock.unlock();
      Slot done;
      try {
        done.result.emplace(work(i));
      } catch (...) {
        done.error = std::current_exception();
      }
      lock.lock();
      window[i - delivered] = std::move(done);
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers);
  auto stop_and_join = [&] {
    {
      std::lock_guard<std::mutex> lock(m);
      stopped = true;
      changed.notify_all();
    }
    for (std::thread& t : threads) t.join();
  };
  try {
    for (unsigned w = 0; w < workers && w < n; ++w) threads.emplace_back(worker_main);
    for (std::size_t i = 0; i < n; ++i) {
      Slot slot;
      {
        std::unique_lock<std::mutex> lock(m);
        changed.wait(lock, [&] { return !window.empty() && (window.front().result || window.front().error); });
        slot = std::move(window.front());
        window.pop_front();
        ++delivered;
        changed.notify_all();
      }
      if (slot.error) std::rethrow_exception(slot.error);
      if (!deliver(i, *slot.result)) break;
    }
  } catch (...) {
    stop_and_join();
    throw;
  }
  stop_and_join();
}

}  // namespace lockgraph::analysis
