// Specializations of std::lock_guard, std::unique_lock, std::scoped_lock and std::shared_lock for
// lockgraph's lock types, so that `std::lock_guard<lockgraph::mutex> g(m);` records the line of
// the guard, not a line inside <mutex>. ([namespace.std] allows specializing standard class
// templates for program-defined types; each specialization keeps the standard interface and
// behaviour, and adds only a defaulted trailing source_site parameter.)
// Multi-lock std::scoped_lock uses the std::lock algorithm: block on one lock, try the others,
// back off on failure. Its try-locks never block, so they add no lock-order edges — the analyzer
// treats scoped_lock as deadlock-free, as it is.
// Cost: nothing beyond the lock operations themselves.
#pragma once

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <tuple>
#include <utility>

#include "lockgraph/detail/lock_core.hpp"

namespace lockgraph::detail {

// std::lock's algorithm over traced locks, forwarding the caller's site to every operation.
template <class... L>
void lock_all(const source_site& where, L&... locks) {
  constexpr std::size_t n = sizeof...(L);
  if constexpr (n == 1) {
    (locks.lock(where), ...);
  } else {
    auto tuple = std::tie(locks...);
    std::size_t first = 0;
    for (;;) {
      bool ok = true;
      std::size_t failed = 0;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        // Block on `first`, then try the rest in order.
        ((I == first ? (std::get<I>(tuple).lock(where), void()) : void()), ...);
        std::size_t taken_mask_bits[n] = {};
        taken_mask_bits[first] = 1;
        auto try_one = [&](auto& l, std::size_t i) {
          if (!ok || i == first) return;
          if (l.try_lock(where)) {
            taken_mask_bits[i] = 1;
          } else {
            ok = false;
            failed = i;
          }
        };
        (try_one(std::get<I>(tuple), I), ...);
        if (!ok) {
          auto unlock_one = [&](auto& l, std::size_t i) {
            if (taken_mask_bits[i]) l.unlock(where);
          };
          (unlock_one(std::get<I>(tuple), I), ...);
        }
      }(std::index_sequence_for<L...>{});
      if (ok) return;
      first = failed;
    }
  }
}

}  // namespace lockgraph::detail

namespace std {

template <class M>
  requires lockgraph::detail::traced_lockable<M>
class lock_guard<M> {
 public:
  using mutex_type = M;
  explicit lock_guard(M& m, lockgraph::source_site where = lockgraph::source_site::current()) : m_(m), where_(where) {
    m_.lock(where_);
  }
  lock_guard(M& m, adopt_lock_t, lockgraph::source_site where = lockgraph::source_site::current()) noexcept
      : m_(m), where_(where) {}
  ~lock_guard() { m_.unlock(where_); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  M& m_;
  lockgraph::source_site where_;
};

template <class M>
  requires lockgraph::detail::traced_lockable<M>
class unique_lock<M> {
 public:
  using mutex_type = M;
  using site = lockgraph::source_site;

  unique_lock() noexcept = default;
  explicit unique_lock(M& m, site where = site::current()) : m_(&m), where_(where) {
    m_->lock(where_);
    owns_ = true;
  }
  unique_lock(M& m, defer_lock_t, site where = site::current()) noexcept : m_(&m), where_(where) {}
  unique_lock(M& m, try_to_lock_t, site where = site::current()) : m_(&m), where_(where) {
    owns_ = m_->try_lock(where_);
  }
  unique_lock(M& m, adopt_lock_t, site where = site::current()) noexcept : m_(&m), owns_(true), where_(where) {}
  template <class Clock, class Duration>
  unique_lock(M& m, const chrono::time_point<Clock, Duration>& tp, site where = site::current())
      : m_(&m), where_(where) {
    owns_ = m_->try_lock_until(tp, where_);
  }
  template <class Rep, class Period>
  unique_lock(M& m, const chrono::duration<Rep, Period>& d, site where = site::current()) : m_(&m), where_(where) {
    owns_ = m_->try_lock_for(d, where_);
  }
  ~unique_lock() {
    if (owns_) m_->unlock(where_);
  }
  unique_lock(const unique_lock&) = delete;
  unique_lock& operator=(const unique_lock&) = delete;
  unique_lock(unique_lock&& o) noexcept : m_(o.m_), owns_(o.owns_), where_(o.where_) {
    o.m_ = nullptr;
    o.owns_ = false;
  }
  unique_lock& operator=(unique_lock&& o) noexcept {
    if (owns_) m_->unlock(where_);
    m_ = o.m_;
    owns_ = o.owns_;
    where_ = o.where_;
    o.m_ = nullptr;
    o.owns_ = false;
    return *this;
  }

  void lock(site where = site::current()) {
    check_lockable();
    where_ = where;
    m_->lock(where_);
    owns_ = true;
  }
  bool try_lock(site where = site::current()) {
    check_lockable();
    where_ = where;
    owns_ = m_->try_lock(where_);
    return owns_;
  }
  template <class Rep, class Period>
  bool try_lock_for(const chrono::duration<Rep, Period>& d, site where = site::current()) {
    check_lockable();
    where_ = where;
    owns_ = m_->try_lock_for(d, where_);
    return owns_;
  }
  template <class Clock, class Duration>
  bool try_lock_until(const chrono::time_point<Clock, Duration>& tp, site where = site::current()) {
    check_lockable();
    where_ = where;
    owns_ = m_->try_lock_until(tp, where_);
    return owns_;
  }
  void unlock(site where = site::current()) {
    if (!owns_) __throw_system_error(int(errc::operation_not_permitted));
    m_->unlock(where);
    owns_ = false;
  }
  void swap(unique_lock& o) noexcept {
    std::swap(m_, o.m_);
    std::swap(owns_, o.owns_);
    std::swap(where_, o.where_);
  }
  M* release() noexcept {
    M* m = m_;
    m_ = nullptr;
    owns_ = false;
    return m;
  }
  bool owns_lock() const noexcept { return owns_; }
  explicit operator bool() const noexcept { return owns_; }
  M* mutex() const noexcept { return m_; }
  // The site of the most recent acquisition (lockgraph::condition_variable re-records it).
  const site& where() const noexcept { return where_; }

 private:
  void check_lockable() const {
    if (m_ == nullptr) __throw_system_error(int(errc::operation_not_permitted));
    if (owns_) __throw_system_error(int(errc::resource_deadlock_would_occur));
  }
  M* m_ = nullptr;
  bool owns_ = false;
  site where_{};
};

template <class... M>
  requires(sizeof...(M) > 0 && (lockgraph::detail::traced_lockable<M> && ...))
class scoped_lock<M...> {
 public:
  explicit scoped_lock(M&... m, lockgraph::source_site where = lockgraph::source_site::current())
      : locks_(m...), where_(where) {
    lockgraph::detail::lock_all(where_, m...);
  }
  explicit scoped_lock(adopt_lock_t, M&... m, lockgraph::source_site where = lockgraph::source_site::current())
      : locks_(m...), where_(where) {}
  ~scoped_lock() {
    std::apply([this](auto&... l) { (l.unlock(where_), ...); }, locks_);
  }
  scoped_lock(const scoped_lock&) = delete;
  scoped_lock& operator=(const scoped_lock&) = delete;

 private:
  tuple<M&...> locks_;
  lockgraph::source_site where_;
};

template <class M>
  requires lockgraph::detail::traced_lockable<M>
class shared_lock<M> {
 public:
  using mutex_type = M;
  using site = lockgraph::source_site;
  shared_lock() noexcept = default;
  explicit shared_lock(M& m, site where = site::current()) : m_(&m), where_(where) {
    m_->lock_shared(where_);
    owns_ = true;
  }
  shared_lock(M& m, defer_lock_t, site where = site::current()) noexcept : m_(&m), where_(where) {}
  shared_lock(M& m, try_to_lock_t, site where = site::current()) : m_(&m), where_(where) {
    owns_ = m_->try_lock_shared(where_);
  }
  shared_lock(M& m, adopt_lock_t, site where = site::current()) noexcept : m_(&m), owns_(true), where_(where) {}
  ~shared_lock() {
    if (owns_) m_->unlock_shared(where_);
  }
  shared_lock(const shared_lock&) = delete;
  shared_lock& operator=(const shared_lock&) = delete;
  shared_lock(shared_lock&& o) noexcept : m_(o.m_), owns_(o.owns_), where_(o.where_) {
    o.m_ = nullptr;
    o.owns_ = false;
  }
  void lock(site where = site::current()) {
    where_ = where;
    m_->lock_shared(where_);
    owns_ = true;
  }
  bool try_lock(site where = site::current()) {
    where_ = where;
    owns_ = m_->try_lock_shared(where_);
    return owns_;
  }
  void unlock(site where = site::current()) {
    if (!owns_) __throw_system_error(int(errc::operation_not_permitted));
    m_->unlock_shared(where);
    owns_ = false;
  }
  bool owns_lock() const noexcept { return owns_; }
  explicit operator bool() const noexcept { return owns_; }
  M* mutex() const noexcept { return m_; }
  M* release() noexcept {
    M* m = m_;
    m_ = nullptr;
    owns_ = false;
    return m;
  }

 private:
  M* m_ = nullptr;
  bool owns_ = false;
  site where_{};
};

}  // namespace std
