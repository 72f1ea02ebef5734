// lockgraph::thread_pool: a plain work queue; workers are lockgraph::threads so their creation and
// join are recorded, and each task records its start and end.
#include "lockgraph/thread_pool.hpp"

namespace lockgraph {

namespace detail {
void wait_for_task(std::uint64_t pool, const source_site& where, const std::function<void()>& wait) {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr) {
    wait();
    return;
  }
  // Visible to the watchdog: a pool whose workers all wait for tasks queued behind them stalls.
  rt::begin_wait(t, rt::WaitKind::kFuture, pool, 0, rt::site_id(t, where));
  wait();
  rt::end_wait(t);
}

void record_pool_event(format::Kind kind, std::uint8_t flags, std::uint64_t pool, std::uint64_t task,
                       const source_site& where) noexcept {
  if (rt::ThreadState* t = rt::recording_self()) {
    rt::emit_sync(t, kind, flags, rt::site_id(t, where), pool, 0, 0, task, 0, 4);
  }
}
}  // namespace detail

void thread_pool::init(const char* name, const detail::creation_point& at) {
  id_ = rt::new_object_id();
  if (rt::ThreadState* t = rt::recording_self()) {
    std::uint32_t name_id = name ? rt::intern_string(t, name) : 0;
    rt::emit_sync(t, format::Kind::kPoolCreate, 0, rt::creation_site_id(t, at), id_, 0, 0, max_workers_, name_id, 5);
  }
}

thread_pool::~thread_pool() { shutdown(true, source_site{}); }

void thread_pool::enqueue(std::function<void()> job) {
  std::unique_lock<std::mutex> g(mu_);
  if (stopping_) throw std::runtime_error("lockgraph::thread_pool: submit after shutdown");
  queue_.push_back(std::move(job));
  if (idle_ == 0 && workers_.size() < max_workers_) {
    workers_.emplace_back(source_site{__FILE__, "thread_pool::worker", __LINE__}, [this] { worker_loop(); });
  } else {
    cv_.notify_one();
  }
}

void thread_pool::worker_loop() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(g, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping and drained
    std::function<void()> job = std::move(queue_.front());
    queue_.pop_front();
    g.unlock();
    job();
    g.lock();
  }
}

void thread_pool::shutdown(bool wait, source_site where) {
  std::vector<thread> workers;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (joined_) return;
    if (!stopping_) detail::record_pool_event(format::Kind::kPoolShutdown, wait ? 1 : 0, id_, 0, where);
    stopping_ = true;
    cv_.notify_all();
    if (!wait) return;
    joined_ = true;
    workers.swap(workers_);
  }
  for (thread& w : workers) w.join(where);
  detail::record_pool_event(format::Kind::kPoolShutdownDone, 0, id_, 0, where);
}

}  // namespace lockgraph
