// TraceSet: opening a run's process files and replaying them in happens-before order.
#include "lockgraph/analyzer/trace_set.hpp"

#include "lockgraph/analyzer/flat_map.hpp"
#include "lockgraph/analyzer/symbolize.hpp"

#include <array>
#include <deque>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

namespace lockgraph::analysis {

namespace {

// A replay constraint: either "the next sequence number of object X" (kSeq) or "the event that
// produces this hand-off has been replayed" (the other types).
enum class KeyType : std::uint8_t { kSeq, kCreate, kEnd, kSubmit, kTaskEnd, kFork };

struct Key {
  KeyType type;
  std::uint32_t process;
  std::uint64_t a;
  std::uint64_t b;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept {
    std::uint64_t h = (std::uint64_t(k.type) << 56) ^ (std::uint64_t(k.process) << 40) ^ k.a ^ (k.b * 0x9E3779B97F4A7C15ull);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return std::size_t(h ^ (h >> 32));
  }
};

bool carries_seq(const Event& e) {
  if (e.seq == 0) return false;
  switch (e.kind) {
    case Kind::kLockAcquired:
    case Kind::kLockRelease:
    case Kind::kLockDestroy:
    case Kind::kSemAcquired:
    case Kind::kSemRelease:
    case Kind::kEventSet:
    case Kind::kEventClear:
    case Kind::kEventWaitEnd:
    case Kind::kCondNotify:
    case Kind::kBarrierArrive:
    case Kind::kBarrierDepart:
    case Kind::kHbRelease:
    case Kind::kHbAcquire:
    case Kind::kAtomic:
    case Kind::kMemAlloc:
    case Kind::kMemFree:
      return true;
    default:
      return false;
  }
}

// An acquire-only atomic names the releases it may have observed (all up to seq - 1) but is not
// an operation in the object's sequence itself: replaying it must not let later ones pass.
bool observes_only(const Event& e) {
  return (e.kind == Kind::kAtomic && (e.flags & 3u) == format::kAtomicLoad) || e.kind == Kind::kMemAlloc;
}

// What must have been replayed before `e`; false when nothing.
bool requirement(const Event& e, Key* k) {
  if (carries_seq(e)) {
    *k = Key{KeyType::kSeq, object_scope(e.process, e.object), e.object, 0};
    return true;
  }
  switch (e.kind) {
    case Kind::kThreadStart:
      if (e.object == 0) return false;
      *k = Key{KeyType::kCreate, e.process, e.thread, 0};
      return true;
    case Kind::kThreadJoin:
      *k = Key{KeyType::kEnd, e.process, e.object, 0};
      return true;
    case Kind::kPoolTaskStart:
      *k = Key{KeyType::kSubmit, e.process, e.object, e.value};
      return true;
    case Kind::kPoolResult:
    case Kind::kPoolCallback:
      *k = Key{KeyType::kTaskEnd, e.process, e.object, e.value};
      return true;
    default:
      return false;
  }
}

// The hand-off `e` provides to later events, if any.
bool production(const Event& e, Key* k) {
  switch (e.kind) {
    case Kind::kThreadCreate:
      *k = Key{KeyType::kCreate, e.process, e.object, 0};
      return true;
    case Kind::kThreadEnd:
      *k = Key{KeyType::kEnd, e.process, e.thread, 0};
      return true;
    case Kind::kPoolSubmit:
      *k = Key{KeyType::kSubmit, e.process, e.object, e.value};
      return true;
    case Kind::kPoolTaskEnd:
      *k = Key{KeyType::kTaskEnd, e.process, e.object, e.value};
      return true;
    case Kind::kProcessFork:
      *k = Key{KeyType::kFork, e.process, e.seq, 0};
      return true;
    default:
      return false;
  }
}

std::string describe(const Key& k, std::uint64_t seq) {
  switch (k.type) {
    case KeyType::kSeq: return "operation " + std::to_string(seq) + " on object " + std::to_string(k.a);
    case KeyType::kCreate: return "the creation of thread " + std::to_string(k.a);
    case KeyType::kEnd: return "the end of thread " + std::to_string(k.a);
    case KeyType::kSubmit: return "the submission of task " + std::to_string(k.b);
    case KeyType::kTaskEnd: return "the end of task " + std::to_string(k.b);
    case KeyType::kFork: return "fork " + std::to_string(k.a) + " of the parent process";
  }
  return "?";
}

}  // namespace

std::unique_ptr<TraceSet> TraceSet::open(const std::vector<std::string>& args, Problem* fatal, SiteNames names) {
  std::vector<std::string> paths;
  if (args.empty()) {
    *fatal = Problem{"", 0, "no trace given"};
    return nullptr;
  }
  if (!expand_trace_paths(args, &paths, fatal)) return nullptr;
  // A single file that is not binary is read as the text form.
  if (paths.size() == 1) {
    std::ifstream in(paths[0], std::ios::binary);
    char magic[8] = {};
    in.read(magic, 8);
    if (in.gcount() == 8 && std::string_view(magic, 8) != std::string_view(format::kMagic, 8)) {
      bool printable = true;
      for (char c : magic) printable = printable && (c == '\n' || c == '\t' || c == '\r' || (c >= 32 && c < 127));
      if (printable) {
        in.clear();
        in.seekg(0);
        TextTrace text;
        if (!parse_text_trace(in, paths[0], &text, fatal)) return nullptr;
        return from_text(std::move(text), paths[0]);
      }
    }
  }
  // Started now, so that it loads while the files are scanned (most traces have code addresses
  // to name); killed unasked when they have none that `names` wants.
  SymbolizerProcess symbolizer;
  std::unique_ptr<TraceSet> set(new TraceSet());
  for (const std::string& p : paths) {
    Problem err;
    auto f = TraceFile::open(p, &err);
    if (!f) {
      if (paths.size() == 1) {
        *fatal = err;
        return nullptr;
      }
      set->problems_.push_back(err);  // one bad file of several: analyze the others
      continue;
    }
    for (const Problem& pr : f->problems()) set->problems_.push_back(pr);
    ProcessInfo info;
    info.path = p;
    info.pid = f->header().pid;
    info.ppid = f->header().ppid;
    info.fork_id = f->header().fork_id;
    info.program = f->header().program;
    info.has_trailer = f->has_trailer();
    info.records_lost = f->records_lost();
    info.first_loss_ns = f->header().first_loss_mono_ns;
    info.start_ns = f->header().start_mono_ns;
    if (f->has_trailer()) {
      const Event& t = *f->trailer();
      info.end_ns = t.time;
      info.ended_by_watchdog = t.extra_words > 0 && t.extra[0] == 1;
    }
    if (!info.has_trailer) {
      set->problems_.push_back({p, 0, "no trailer: the process did not exit cleanly (killed, crashed, ended by _exit or exec in a program linked with the wrappers, or still running); "
                                      "everything it recorded is analyzed"});
    }
    if (info.records_lost != 0) {
      std::string when;
      if (f->header().first_loss_mono_ns > info.start_ns && info.start_ns != 0) {
        char b[64];
        std::snprintf(b, sizeof b, " from %.3f s into the run on", double(f->header().first_loss_mono_ns - info.start_ns) / 1e9);
        when = b;
      }
      set->problems_.push_back({p, 0, std::to_string(info.records_lost) + " records could not be written (trace space exhausted" +
                                          when + " — disk full?); everything recorded before that is complete, the "
                                          "analysis misses what came after"});
    }
    set->processes_.push_back(info);
    set->files_.push_back(std::move(f));
  }
  if (set->files_.empty()) {
    *fatal = set->problems_.empty() ? Problem{args[0], 0, "no readable trace"} : set->problems_.front();
    return nullptr;
  }
  {
    std::vector<TraceFile*> files;
    for (const auto& f : set->files_) files.push_back(f.get());
    symbolize_pc_sites(files, symbolizer, *set->data_names_, names);  // one symbolizer process for every file of the run
  }
  // Processes of one run form one fork tree; several roots usually mean several runs left in one
  // trace directory, whose findings would be mixed.
  std::vector<std::uint64_t> roots;
  for (const ProcessInfo& p : set->processes_) {
    bool has_parent = false;
    for (const ProcessInfo& q : set->processes_) has_parent = has_parent || (p.fork_id != 0 && q.pid == p.ppid);
    if (!has_parent) roots.push_back(p.pid);
  }
  if (roots.size() > 1) {
    std::string list;
    for (std::size_t i = 0; i < roots.size() && i < 5; ++i) list += (i ? ", " : "") + std::to_string(roots[i]);
    if (roots.size() > 5) list += ", ...";
    set->problems_.push_back({args.size() == 1 ? args[0] : std::string("input"), 0,
                              "holds " + std::to_string(roots.size()) + " unrelated process trees (pids " + list +
                                  "): traces of several runs? They are analyzed together; use a fresh "
                                  "LOCKGRAPH_TRACE_DIR per run"});
  }
  return set;
}

std::unique_ptr<TraceSet> TraceSet::from_text(TextTrace text, const std::string& name) {
  std::unique_ptr<TraceSet> set(new TraceSet());
  for (const TextProcess& p : text.processes) {
    ProcessInfo info;
    info.path = name;
    info.pid = p.pid;
    info.ppid = p.ppid;
    info.fork_id = p.fork_id;
    info.program = p.program;
    info.has_trailer = p.has_trailer;
    set->processes_.push_back(info);
  }
  for (const auto& [word, id] : text.object_names) set->object_words_[id] = word;
  set->text_ = std::make_unique<TextTrace>(std::move(text));
  return set;
}

std::string_view TraceSet::string(std::uint32_t process, std::uint32_t id) const noexcept {
  if (text_) {
    auto it = text_->strings.find(id);
    return it == text_->strings.end() ? std::string_view{} : std::string_view(it->second);
  }
  return process < files_.size() ? files_[process]->string(id) : std::string_view{};
}

const Site* TraceSet::site(std::uint32_t process, std::uint32_t id) const noexcept {
  if (text_) {
    auto it = text_->sites.find(id);
    return it == text_->sites.end() ? nullptr : &it->second;
  }
  return process < files_.size() ? files_[process]->site(id) : nullptr;
}

std::string TraceSet::location(std::uint32_t process, std::uint32_t id) const {
  const Site* s = site(process, id);
  return s ? s->location() : "?";
}

std::string TraceSet::function(std::uint32_t process, std::uint32_t id) const {
  const Site* s = site(process, id);
  return s ? s->function : std::string();
}

std::string TraceSet::global_name(std::uint32_t process, std::uint64_t address) const {
  if (text_ || process >= files_.size() || files_[process]->modules().empty()) return "";
  if (global_names_.size() < files_.size()) global_names_.resize(files_.size());
  if (!global_names_[process]) global_names_[process] = std::make_unique<GlobalNames>(*data_names_);
  return global_names_[process]->name(files_[process]->modules(), address);
}

std::string TraceSet::object_word(std::uint64_t id) const {
  auto it = object_words_.find(id);
  return it == object_words_.end() ? std::string() : it->second;
}

void TraceSet::for_each_in_program_order(const std::function<void(const Event&)>& fn) const {
  if (text_) {
    for (const Event& e : text_->events) fn(e);
    return;
  }
  for (std::uint32_t p = 0; p < files_.size(); ++p) {
    for (std::uint32_t t : files_[p]->threads()) {
      auto c = files_[p]->cursor(t);
      for (Event e; c.next(&e);) {
        e.process = p;
        fn(e);
      }
    }
  }
}

std::uint64_t TraceSet::record_count() const noexcept {
  if (text_) return text_->events.size();
  std::uint64_t n = 0;
  for (const auto& f : files_) n += f->record_count();
  return n;
}

ReplayStats TraceSet::replay(const std::function<void(const Event&)>& fn) {
  ReplayStats stats;
  if (text_) {
    for (const Event& e : text_->events) fn(e);
    stats.events = text_->events.size();
    return stats;
  }
  struct Thread {
    TraceFile::Cursor cursor;
    Event ev;
    bool has = false;
    bool needs_fork = false;
    Key fork{};
  };
  std::vector<Thread> threads;
  for (std::uint32_t p = 0; p < files_.size(); ++p) {
    // A forked child's records all come after its parent's fork record.
    int parent = -1;
    if (processes_[p].fork_id != 0) {
      for (std::uint32_t q = 0; q < processes_.size(); ++q) {
        if (processes_[q].pid == processes_[p].ppid) parent = int(q);
      }
    }
    for (std::uint32_t t : files_[p]->threads()) {
      Thread th;
      th.cursor = files_[p]->cursor(t);
      th.has = th.cursor.next(&th.ev);
      th.ev.process = p;
      if (parent >= 0) {
        th.needs_fork = true;
        th.fork = Key{KeyType::kFork, std::uint32_t(parent), processes_[p].fork_id, 0};
      }
      if (th.has) threads.push_back(std::move(th));
    }
  }
  // Per object: the next sequence number expected (0: nothing replayed yet, so 1 is expected),
  // with kWaitedFor set while a thread waits for it, so only then a release looks in `waiting`.
  constexpr std::uint64_t kWaitedFor = std::uint64_t(1) << 63;
  FlatMap<Key, std::uint64_t, KeyHash> next_seq;
  // In front of next_seq: a lock's acquisition and release come from one thread in a row, and
  // most of a trace's sequence numbers are locks'. An entry holds while the map has not grown.
  struct SeqCacheEntry {
    std::uint32_t process = 0;
    std::uint64_t object = 0;
    std::uint64_t* slot = nullptr;
    std::size_t capacity = 0;
  };
  std::array<SeqCacheEntry, 256> seq_cache{};
  auto seq_slot_of = [&](const Key& k) -> std::uint64_t& {
    SeqCacheEntry& c = seq_cache[(k.a ^ (k.a >> 8) ^ k.process) & 255];
    if (c.slot != nullptr && c.capacity == next_seq.capacity() && c.object == k.a && c.process == k.process) {
      return *c.slot;
    }
    std::uint64_t& slot = next_seq.find_or_insert(k);
    c = SeqCacheEntry{k.process, k.a, &slot, next_seq.capacity()};
    return slot;
  };
  std::unordered_set<Key, KeyHash> produced;
  std::unordered_map<Key, std::vector<std::size_t>, KeyHash> waiting;
  std::deque<std::size_t> ready;
  for (std::size_t i = 0; i < threads.size(); ++i) ready.push_back(i);
  std::size_t finished = 0;
  std::size_t reported = 0;

  auto wake = [&](const Key& k) {
    auto it = waiting.find(k);
    if (it == waiting.end()) return;
    for (std::size_t i : it->second) ready.push_back(i);
    waiting.erase(it);
  };

  while (finished < threads.size()) {
    while (!ready.empty()) {
      std::size_t i = ready.front();
      ready.pop_front();
      Thread& th = threads[i];
      while (th.has) {
        if (th.needs_fork) {
          if (!produced.count(th.fork)) {
            waiting[th.fork].push_back(i);
            break;
          }
          th.needs_fork = false;
        }
        Key need;
        bool has_need = requirement(th.ev, &need);
        std::uint64_t* seq_slot = nullptr;  // stays valid: nothing inserts into next_seq until it is used
        if (has_need) {
          if (need.type == KeyType::kSeq) {
            seq_slot = &seq_slot_of(need);
            std::uint64_t expect = std::max<std::uint64_t>(1, *seq_slot & ~kWaitedFor);
            if (th.ev.seq > expect) {
              *seq_slot |= kWaitedFor;
              waiting[need].push_back(i);
              break;
            }
          } else if (!produced.count(need)) {
            waiting[need].push_back(i);
            break;
          }
        }
        fn(th.ev);
        ++stats.events;
        if (seq_slot != nullptr && !observes_only(th.ev)) {
          const bool waited = (*seq_slot & kWaitedFor) != 0;
          // Clearing the flag is right even if a waiter's turn has not come: wake() hands every
          // waiter back, and one still early waits again and sets it again.
          *seq_slot = std::max(*seq_slot & ~kWaitedFor, th.ev.seq + 1);
          if (waited) wake(need);
        }
        Key gives;
        if (production(th.ev, &gives)) {
          produced.insert(gives);
          wake(gives);
        }
        std::uint32_t p = th.ev.process;
        th.has = th.cursor.next(&th.ev);
        th.ev.process = p;
        if (!th.has) ++finished;
      }
    }
    if (finished == threads.size()) break;
    // Stuck: a constraint names a record that is not in the trace. Release the smallest pending
    // sequence number (or, failing that, any hand-off) and say so.
    const Key* best = nullptr;
    std::uint64_t best_seq = 0;
    for (const auto& [k, list] : waiting) {
      if (k.type == KeyType::kSeq) {
        for (std::size_t i : list) {
          std::uint64_t s = threads[i].ev.seq;
          if (best == nullptr || best->type != KeyType::kSeq || s < best_seq) {
            best = &k;
            best_seq = s;
          }
        }
      } else if (best == nullptr) {
        best = &k;
      }
    }
    if (best == nullptr) break;  // cannot happen: unfinished threads are all waiting
    Key k = *best;
    const bool inherited = k.type == KeyType::kSeq && (next_seq.find_or_insert(k) & ~kWaitedFor) == 0 &&
                           k.process != kAllProcesses && processes_[k.process].fork_id != 0;
    if (k.type == KeyType::kSeq) {
      next_seq.find_or_insert(k) = best_seq;
    } else {
      produced.insert(k);
    }
    if (!inherited) {
      ++stats.forced;
      if (reported < 20) {
        problems_.push_back({k.process < processes_.size() ? processes_[k.process].path : std::string(), 0,
                             "replay: " + describe(k, best_seq) + " was waited for but is missing from the trace "
                             "(records lost); analysis continued without that ordering"});
      }
      ++reported;
    }
    wake(k);
  }
  if (reported > 20) {
    problems_.push_back({"", 0, "replay: " + std::to_string(reported - 20) + " more missing orderings not listed"});
  }
  return stats;
}

}  // namespace lockgraph::analysis
