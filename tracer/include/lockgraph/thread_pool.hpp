// lockgraph::thread_pool — Python's ThreadPoolExecutor in C++: submit work, get futures, add done
// callbacks, shut down. Every hand-off is recorded: submit -> task start, task end -> result() /
// done callback, so the analyzer orders a task after its submitter and its consumer after it.
//
// Contract:
//   thread_pool pool(5, "name");
//   auto f = pool.submit(fn, args...);     // lockgraph::future<R>
//   f.add_done_callback([](auto& fut) {...});  // runs in the worker when the task ends, or at once
//   R r = f.get();                          // as std::future::get (also .result())
//   pool.shutdown(/*wait=*/true);           // joins the workers; the destructor does the same
// Submitting after shutdown throws std::runtime_error. The pool's own queue lock is not traced:
// the submit/start/end records are the hand-offs it really provides.
// Cost: per task one allocation for its state and five records.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockgraph/runtime.hpp"
#include "lockgraph/source_site.hpp"
#include "lockgraph/thread.hpp"

namespace lockgraph {

namespace detail {
void record_pool_event(format::Kind kind, std::uint8_t flags, std::uint64_t pool, std::uint64_t task,
                       const source_site& where) noexcept;
void wait_for_task(std::uint64_t pool, const source_site& where, const std::function<void()>& wait);

template <class R>
struct task_state {
  std::uint64_t pool = 0;
  std::uint64_t task = 0;
  std::shared_future<R> result;
  std::mutex mu;  // guards done and callbacks (untraced: internal bookkeeping)
  bool done = false;
  std::vector<std::function<void()>> callbacks;
};
}  // namespace detail

template <class R>
class future {
 public:
  future() = default;
  explicit future(std::shared_ptr<detail::task_state<R>> s) : s_(std::move(s)) {}

  // Blocks until the task ended; returns its value or rethrows its exception.
  decltype(auto) get(source_site where = source_site::current()) const {
    if (s_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      detail::wait_for_task(s_->pool, where, [this] { s_->result.wait(); });
    }
    detail::record_pool_event(format::Kind::kPoolResult, 0, s_->pool, s_->task, where);
    return s_->result.get();
  }
  decltype(auto) result(source_site where = source_site::current()) const { return get(where); }
  void wait() const { s_->result.wait(); }
  template <class Rep, class Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period>& d) const {
    return s_->result.wait_for(d);
  }
  bool valid() const noexcept { return s_ != nullptr; }
  bool done() const {
    std::lock_guard<std::mutex> g(s_->mu);
    return s_->done;
  }
  // fn(const future&) runs in the worker right after the task ends, or now if it already has.
  template <class Fn>
  void add_done_callback(Fn fn, source_site where = source_site::current()) const {
    auto self = *this;
    auto run = [self, fn = std::move(fn), where]() mutable {
      detail::record_pool_event(format::Kind::kPoolCallback, 0, self.s_->pool, self.s_->task, where);
      fn(self);
    };
    std::unique_lock<std::mutex> g(s_->mu);
    if (!s_->done) {
      s_->callbacks.emplace_back(std::move(run));
      return;
    }
    g.unlock();
    run();
  }
  std::uint64_t task_id() const noexcept { return s_->task; }

 private:
  std::shared_ptr<detail::task_state<R>> s_;
};

class thread_pool {
 public:
  // always_inline: the creation site is taken inside the code that constructs (creation_site).
  [[gnu::always_inline]] explicit thread_pool(unsigned max_workers, const char* name = nullptr,
                                              source_site where = source_site::current())
      : max_workers_(max_workers == 0 ? 1 : max_workers) {
    init(name, detail::creation_site(where));
  }
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  template <class F, class... Args>
  __attribute__((noinline)) auto submit(F&& f, Args&&... args)
      -> future<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>> {
    return submit_at(source_site::from_pc(__builtin_return_address(0)), std::forward<F>(f), std::forward<Args>(args)...);
  }

  template <class F, class... Args>
  auto submit_at(source_site where, F&& f, Args&&... args)
      -> future<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>> {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    auto state = std::make_shared<detail::task_state<R>>();
    state->pool = id_;
    state->task = next_task_.fetch_add(1, std::memory_order_relaxed) + 1;
    auto promise = std::make_shared<std::promise<R>>();
    state->result = promise->get_future().share();
    auto bound = [fn = std::forward<F>(f), ... a = std::forward<Args>(args)]() mutable -> R {
      return std::invoke(std::move(fn), std::move(a)...);
    };
    std::function<void()> job = [state, promise, bound = std::move(bound), where]() mutable {
      detail::record_pool_event(format::Kind::kPoolTaskStart, 0, state->pool, state->task, where);
      try {
        if constexpr (std::is_void_v<R>) {
          bound();
          detail::record_pool_event(format::Kind::kPoolTaskEnd, 0, state->pool, state->task, where);
          promise->set_value();
        } else {
          R r = bound();
          detail::record_pool_event(format::Kind::kPoolTaskEnd, 0, state->pool, state->task, where);
          promise->set_value(std::move(r));
        }
      } catch (...) {
        detail::record_pool_event(format::Kind::kPoolTaskEnd, 1, state->pool, state->task, where);
        promise->set_exception(std::current_exception());
      }
      std::vector<std::function<void()>> callbacks;
      {
        std::lock_guard<std::mutex> g(state->mu);
        state->done = true;
        callbacks.swap(state->callbacks);
      }
      for (auto& cb : callbacks) cb();
    };
    detail::record_pool_event(format::Kind::kPoolSubmit, 0, id_, state->task, where);
    enqueue(std::move(job));
    return future<R>(state);
  }

  void shutdown(bool wait = true, source_site where = source_site::current());
  unsigned max_workers() const noexcept { return max_workers_; }
  std::uint64_t trace_id() const noexcept { return id_; }

 private:
  void init(const char* name, const detail::creation_point& at);
  void enqueue(std::function<void()> job);
  void worker_loop();

  unsigned max_workers_;
  std::uint64_t id_ = 0;
  std::atomic<std::uint64_t> next_task_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  bool joined_ = false;
  std::vector<thread> workers_;  // started lazily, up to max_workers_, as Python does
  unsigned idle_ = 0;
};

}  // namespace lockgraph
