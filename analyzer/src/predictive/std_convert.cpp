// lockgraph trace -> STD (see std_convert.hpp).
#include "lockgraph/analyzer/std_convert.hpp"

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

std::uint64_t key(std::uint32_t process, std::uint64_t v) { return (std::uint64_t(process) << 48) ^ v; }

}  // namespace

StdConverter::StdConverter(const TraceSet& set, StdTrace* names, StdTrace::EventSink sink)
    : set_(set), names_(names), sink_(std::move(sink)), multi_process_(set.processes().size() > 1) {}

std::uint32_t StdConverter::thread(std::uint32_t process, std::uint64_t tid) {
  auto [it, fresh] = thread_ids_.emplace(key(process, tid), 0);
  if (fresh) {
    it->second = names_->thread_id((multi_process_ ? "P" + std::to_string(process) : std::string()) + "T" + std::to_string(tid));
  }
  return it->second;
}

std::uint32_t StdConverter::location(std::uint32_t process, std::uint32_t site) {
  auto [it, fresh] = site_ids_.emplace(key(process, site), 0);
  if (fresh) {
    const Site* s = set_.site(process, site);
    std::string text = s == nullptr ? "" : s->file.empty() ? s->location() : s->file + ":" + std::to_string(s->line);
    for (char& c : text) c = c == '|' || c == '\n' ? '_' : c;  // STD's separators
    it->second = names_->location_id(text);
  }
  return it->second;
}

void StdConverter::emit(const Event& e, StdOp op, std::uint32_t target) {
  sink_(StdEvent{thread(e.process, e.thread), target, location(e.process, e.site), op});
  ++stats_.converted;
}

void StdConverter::on_event(const Event& e, Model& model) {
  ++stats_.events;
  switch (e.kind) {
    case Kind::kThreadCreate:
      if (e.object != 0) emit(e, StdOp::kFork, thread(e.process, e.object));
      break;
    case Kind::kThreadJoin:
      if (e.object != 0) emit(e, StdOp::kJoin, thread(e.process, e.object));
      break;
    case Kind::kLockAcquired:
      emit(e, StdOp::kAcquire, names_->lock_id(model.lock(model.lock_index(e.process, e.object)).name));
      break;
    case Kind::kLockRelease:
      emit(e, StdOp::kRelease, names_->lock_id(model.lock(model.lock_index(e.process, e.object)).name));
      break;
    case Kind::kRead:
    case Kind::kWrite:
    case Kind::kReadRange:
    case Kind::kWriteRange: {
      auto [it, fresh] = var_ids_.emplace(key(e.process, e.object), 0);
      if (fresh) it->second = names_->variable_id(model.variable_label(e.process, e.object));
      bool write = e.kind == Kind::kWrite || e.kind == Kind::kWriteRange;
      emit(e, write ? StdOp::kWrite : StdOp::kRead, it->second);
      break;
    }
    default:
      if (is_dropped_sync(e.kind)) ++stats_.sync_dropped;
      break;
  }
}

void to_std_trace(TraceSet& set, StdTrace* names, const StdTrace::EventSink& sink, ConversionStats* stats) {
  Model model(set);
  StdConverter converter(set, names, sink);
  set.replay([&](const Event& e) {
    model.begin(e);
    model.apply(e);  // lock names and variable names as the reports spell them
    converter.on_event(e, model);
  });
  *stats = converter.stats();
}

}  // namespace lockgraph::analysis
