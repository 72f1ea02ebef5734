// lockgraph trace -> STD (see std_convert.hpp).
#include "lockgraph/analyzer/std_convert.hpp"

#include <unordered_map>

#include "lockgraph/analyzer/model.hpp"

namespace lockgraph::analysis {
namespace {

bool is_dropped_sync(Kind k) {
  switch (k) {
    case Kind::kSemAcquired:
    case Kind::kSemRelease:
    case Kind::kEventSet:
    case Kind::kEventWaitEnd:
    case Kind::kCondNotify:
    case Kind::kCondWaitEnd:
    case Kind::kBarrierArrive:
    case Kind::kBarrierDepart:
    case Kind::kPoolSubmit:
    case Kind::kPoolTaskStart:
    case Kind::kPoolTaskEnd:
    case Kind::kPoolResult:
    case Kind::kAtomic:
    case Kind::kFence:
    case Kind::kProcessFork: return true;
    default: return false;
  }
}

}  // namespace

void to_std_trace(TraceSet& set, StdTrace* names, const StdTrace::EventSink& sink, ConversionStats* stats) {
  Model model(set);
  const bool multi = set.processes().size() > 1;
  std::unordered_map<std::uint64_t, std::uint32_t> thread_ids, site_ids;  // (process, tid / site) -> id
  std::unordered_map<std::uint64_t, std::uint32_t> var_ids;                // (process, address) -> id
  auto key = [](std::uint32_t process, std::uint64_t v) { return (std::uint64_t(process) << 48) ^ v; };
  auto thread = [&](std::uint32_t process, std::uint64_t tid) {
    auto [it, fresh] = thread_ids.emplace(key(process, tid), 0);
    if (fresh) {
      it->second = names->thread_id((multi ? "P" + std::to_string(process) : std::string()) + "T" + std::to_string(tid));
    }
    return it->second;
  };
  auto location = [&](std::uint32_t process, std::uint32_t site) {
    auto [it, fresh] = site_ids.emplace(key(process, site), 0);
    if (fresh) {
      const Site* s = set.site(process, site);
      std::string text = s == nullptr ? "" : s->file.empty() ? s->location() : s->file + ":" + std::to_string(s->line);
      for (char& c : text) c = c == '|' || c == '\n' ? '_' : c;  // STD's separators
      it->second = names->location_id(text);
    }
    return it->second;
  };
  auto emit = [&](const Event& e, StdOp op, std::uint32_t target) {
    sink(StdEvent{thread(e.process, e.thread), target, location(e.process, e.site), op});
    ++stats->converted;
  };
  set.replay([&](const Event& e) {
    ++stats->events;
    model.begin(e);
    model.apply(e);  // lock names and variable names as the reports spell them
    switch (e.kind) {
      case Kind::kThreadCreate:
        if (e.object != 0) emit(e, StdOp::kFork, thread(e.process, e.object));
        break;
      case Kind::kThreadJoin:
        if (e.object != 0) emit(e, StdOp::kJoin, thread(e.process, e.object));
        break;
      case Kind::kLockAcquired:
        emit(e, StdOp::kAcquire, names->lock_id(model.lock(model.lock_index(e.process, e.object)).name));
        break;
      case Kind::kLockRelease:
        emit(e, StdOp::kRelease, names->lock_id(model.lock(model.lock_index(e.process, e.object)).name));
        break;
      case Kind::kRead:
      case Kind::kWrite:
      case Kind::kReadRange:
      case Kind::kWriteRange: {
        auto [it, fresh] = var_ids.emplace(key(e.process, e.object), 0);
        if (fresh) it->second = names->variable_id(model.variable_label(e.process, e.object));
        bool write = e.kind == Kind::kWrite || e.kind == Kind::kWriteRange;
        emit(e, write ? StdOp::kWrite : StdOp::kRead, it->second);
        break;
      }
      default:
        if (is_dropped_sync(e.kind)) ++stats->sync_dropped;
        break;
    }
  });
}

}  // namespace lockgraph::analysis
