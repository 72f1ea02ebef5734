// Internal: run_pipelined() — a producer of STD events (the parser) on a second thread, its
// events handed in order to a consumer (the analysis) on the calling thread, in batches through a
// bounded queue, so parsing and analysis overlap on two cores.
//
// Contract: consume() sees exactly the batches produce() emitted, in order, on the calling thread;
// produce() returns the parse result, which run_pipelined() returns once every event before the
// end (or the damage) was consumed. An exception from consume() stops the producer and is
// rethrown. Cost: one thread, 4 batches (up to 64 Ki events, 1 MiB, each) in flight; a copy and a
// mutex round trip per batch, nothing per event.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "lockgraph/analyzer/std_trace.hpp"

namespace lockgraph::analysis::predictive {

inline bool run_pipelined(const std::function<bool(const StdTrace::BatchSink&)>& produce,
                          const StdTrace::BatchSink& consume) {
  constexpr std::size_t kInFlight = 4;
  struct Cancelled {};
  std::mutex m;
  std::condition_variable changed;
  std::deque<std::vector<StdEvent>> full;
  std::vector<std::vector<StdEvent>> spare;
  bool done = false, cancelled = false, result = false;
  std::exception_ptr producer_error;

  auto hand_over = [&](const StdEvent* events, std::size_t n) {
    std::vector<StdEvent> batch;
    {
      std::lock_guard<std::mutex> lock(m);
      if (!spare.empty()) {
        batch = std::move(spare.back());
        spare.pop_back();
      }
    }
    batch.assign(events, events + n);  // outside the lock: the consumer keeps going meanwhile
    std::unique_lock<std::mutex> lock(m);
    changed.wait(lock, [&] { return full.size() < kInFlight || cancelled; });
    if (cancelled) throw Cancelled{};
    full.push_back(std::move(batch));
    changed.notify_all();
  };
  std::thread producer([&] {
    bool ok = false;
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
      std::vector<StdEvent> batch;
      {
        std::unique_lock<std::mutex> lock(m);
        changed.wait(lock, [&] { return !full.empty() || done; });
        if (full.empty()) break;
        batch = std::move(full.front());
        full.pop_front();
        changed.notify_all();
      }
      consume(batch.data(), batch.size());
      batch.clear();
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

}  // namespace lockgraph::analysis::predictive
