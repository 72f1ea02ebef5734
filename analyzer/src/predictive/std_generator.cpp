// The synthetic trace generator (see std_generator.hpp).
#include "lockgraph/analyzer/std_generator.hpp"

#include <algorithm>
#include <random>
#include <string>

namespace lockgraph::analysis {

StdTrace generate_std_trace(const GeneratorOptions& o) {
  StdTrace t;
  const std::uint32_t threads = std::max<std::uint32_t>(o.threads, 1);
  const std::uint32_t locks = std::max<std::uint32_t>(o.locks, 1);
  const std::uint32_t vars = std::max<std::uint32_t>(o.variables, threads + 2);
  for (std::uint32_t i = 0; i < threads; ++i) t.thread_id("T" + std::to_string(i));
  for (std::uint32_t i = 0; i < locks; ++i) t.lock_id("L" + std::to_string(i));
  for (std::uint32_t i = 0; i < vars; ++i) t.variable_id("V" + std::to_string(i));
  // One location per (thread, kind of step): like code sites, shared by many events.
  auto loc = [&](std::uint32_t thread, int what) { return t.location_id(std::to_string(thread * 8 + what + 1)); };
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto push = [&](std::uint32_t thread, StdOp op, std::uint32_t target, int what) {
    t.events.push_back(StdEvent{thread, target, loc(thread, what), op});
  };
  t.events.reserve(o.events + 4 * threads);
  for (std::uint32_t u = 1; u < threads; ++u) push(0, StdOp::kFork, u, 0);
  std::vector<std::int64_t> owner(locks, -1);
  std::vector<std::vector<std::uint32_t>> held(threads);
  // Variables: [0, guarded) guarded by lock v mod locks; then one thread-local per thread; the
  // last ones unguarded, shared (the racy share).
  const std::uint32_t racy_vars = std::max<std::uint32_t>(1, vars / 64);
  const std::uint32_t guarded_vars = std::max<std::uint32_t>(1, vars - racy_vars - threads);
  while (t.events.size() < o.events) {
    const std::uint32_t th = uniform(threads);
    std::vector<std::uint32_t>& h = held[th];
    const bool can_nest = h.size() < std::max<std::uint32_t>(o.nesting, 1);
    const double r = std::uniform_real_distribution<double>(0, 1)(rng);
    if (!h.empty() && r < 0.15) {  // leave the innermost critical section
      owner[h.back()] = -1;
      push(th, StdOp::kRelease, h.back(), 1);
      h.pop_back();
    } else if (can_nest && r < 0.30) {  // enter one, in increasing lock order (no deadlock)
      std::uint32_t l = uniform(locks);
      if (owner[l] == -1 && (h.empty() || l > h.back())) {
        owner[l] = th;
        h.push_back(l);
        push(th, StdOp::kAcquire, l, 2);
      }
    } else if (chance(o.racy)) {
      push(th, chance(0.3) ? StdOp::kWrite : StdOp::kRead, vars - 1 - uniform(racy_vars), 3);
    } else if (h.empty()) {
      push(th, chance(0.3) ? StdOp::kWrite : StdOp::kRead, guarded_vars + th, 4);  // its own variable
    } else {
      // Guarded by a held lock: a variable v with v mod locks == that lock.
      std::uint32_t l = h[uniform(static_cast<std::uint32_t>(h.size()))];
      std::uint32_t per_lock = std::max<std::uint32_t>(1, guarded_vars / locks);
      std::uint32_t v = l + locks * uniform(per_lock);
      if (v >= guarded_vars) v = guarded_vars + th;  // no variable of this lock: a local one instead
      push(th, chance(0.3) ? StdOp::kWrite : StdOp::kRead, v, 5);
    }
  }
  for (std::uint32_t th = 0; th < threads; ++th) {
    while (!held[th].empty()) {
      push(th, StdOp::kRelease, held[th].back(), 1);
      held[th].pop_back();
    }
  }
  for (std::uint32_t u = 1; u < threads; ++u) push(0, StdOp::kJoin, u, 6);
  return t;
}

}  // namespace lockgraph::analysis
