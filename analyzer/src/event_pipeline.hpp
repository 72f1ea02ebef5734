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
// per batch, nothing per event.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lockgraph::analysis {

template <class Event>
using EventBatchSink = std::function<void(const Event* events, std::size_t count)>;

template <class Event, class Result>
Result run_pipelined(const std::function<Result(const EventBatchSink<Event>&)>& produce,
                     const EventBatchSink<Event>& consume) {
  constexpr std::size_t kInFlight = 4;
  struct Cancelled {};
  std::mutex m;
  std::condition_variable changed;
  std::deque<std::vector<Event>> full;
  std::vector<std::vector<Event>> spare;
  bool done = false, cancelled = false;
  Result result{};
  std::exception_ptr producer_error;

  auto hand_over = [&](const Event* events, std::size_t n) {
    std::vector<Event> batch;
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
      std::vector<Event> batch;
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

}  // namespace lockgraph::analysis
