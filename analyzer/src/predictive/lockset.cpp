// Eraser's lockset rules over STD traces (see lockset.hpp).
#include "lockset.hpp"

#include <algorithm>
#include <vector>

#include "../lockset_state.hpp"
#include "held_locks.hpp"
#include "lockgraph/analyzer/vector_clock.hpp"

namespace lockgraph::analysis::predictive {
namespace {

struct Writer {
  std::uint32_t thread = 0, location = 0;
};

struct Variable {
  bool seen = false;
  LocksetState lockset;         // lock ids
  std::vector<Epoch> last;      // each thread's latest access, on the fork/join clock
  std::vector<Writer> writers;  // first two distinct writing threads
};

}  // namespace

struct LocksetPredictor::State {
  std::vector<VectorClock> order;                // fork/join only
  HeldLocks<char> sections;                      // per thread, re-entries counted
  std::vector<std::vector<std::uint32_t>> held;  // per thread: the locks of `sections`, sorted
  std::vector<Variable> vars;

  void ensure(std::uint32_t t) {
    while (order.size() <= t) {
      order.emplace_back().set(static_cast<std::uint32_t>(order.size() - 1), 1);
      held.emplace_back();
    }
  }
  void sections_changed(std::uint32_t t) {
    held[t].clear();
    for (const auto& s : sections.of(t)) held[t].push_back(s.lock);
    std::sort(held[t].begin(), held[t].end());
  }
};

LocksetPredictor::LocksetPredictor() : s_(std::make_unique<State>()) {}
LocksetPredictor::~LocksetPredictor() = default;

void LocksetPredictor::on_event(const StdEvent& e) {
  State& s = *s_;
  const std::uint32_t t = e.thread;
  s.ensure(t);
  switch (e.op) {
    case StdOp::kAcquire:
      if (s.sections.acquire(t, e.target, 0)) s.sections_changed(t);
      return;
    case StdOp::kRelease:
      if (s.sections.release(t, e.target)) s.sections_changed(t);
      return;
    case StdOp::kFork:
      s.ensure(e.target);
      s.order[e.target].join(s.order[t]);
      s.order[t].tick(t);
      return;
    case StdOp::kJoin:
      s.ensure(e.target);
      s.order[t].join(s.order[e.target]);
      return;
    case StdOp::kBegin:
    case StdOp::kEnd: return;
    case StdOp::kRead:
    case StdOp::kWrite: break;
  }
  const bool write = e.op == StdOp::kWrite;
  const std::vector<std::uint32_t>& held = s.held[t];
  if (s.vars.size() <= e.target) s.vars.resize(e.target + 1);
  Variable& v = s.vars[e.target];
  const VectorClock& now = s.order[t];
  bool handed_over = v.seen && v.writers.size() < 2 &&
                     std::all_of(v.last.begin(), v.last.end(), [&](const Epoch& p) { return p.thread == t || now.covers(p); });
  if (!v.seen || handed_over) {
    v = Variable{};
    v.seen = true;
    v.lockset.start(t, held);
  }
  auto self = std::find_if(v.last.begin(), v.last.end(), [&](const Epoch& p) { return p.thread == t; });
  if (self == v.last.end()) {
    v.last.push_back(now.epoch(t));
  } else {
    *self = now.epoch(t);
  }
  v.lockset.access(t, held);
  if (write && v.writers.size() < 2 &&
      std::none_of(v.writers.begin(), v.writers.end(), [&](const Writer& w) { return w.thread == t; })) {
    v.writers.push_back(Writer{t, e.location});
  }
  if (v.writers.size() >= 2 && v.lockset.emptied()) {
    const Writer& a = v.writers[0];
    const Writer& b = v.writers[1];
    ++races[PairKey{e.target, a.location, b.location, a.thread, b.thread, true, true}];
  }
}

}  // namespace lockgraph::analysis::predictive
