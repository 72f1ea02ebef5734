// Model::apply — the happens-before and lock-holding bookkeeping of the replay (DESIGN.md,
// "Semantics the detectors must get right", happens-before sources).
#include "lockgraph/analyzer/model.hpp"

#include "lockgraph/analyzer/symbolize.hpp"
#include "fnv1a.hpp"

#include <pthread.h>

#include <algorithm>

namespace lockgraph::analysis {

namespace {
enum Handoff { kCreate = 1, kEnd = 2, kSubmit = 3, kTaskEnd = 4, kFork = 5 };

// The size of the pthread object behind each lock type on x86-64 glibc, to name array elements.
std::uint64_t pthread_object_size(std::uint8_t type) {
  switch (static_cast<format::LockType>(type & 0x7f)) {
    case format::LockType::kSharedMutex:
    case format::LockType::kSharedTimedMutex: return sizeof(pthread_rwlock_t);
    case format::LockType::kSpinLock: return sizeof(pthread_spinlock_t);
    default: return sizeof(pthread_mutex_t);
  }
}

// "accounts[1].m" for a lock inside a global aggregate that debug info describes; without it,
// "forks[2]" for the third lock of a global array, "server+48" for a lock inside a global
// struct; "table_lock" for a global lock.
std::string variable_element_name(const Site& var, std::uint8_t lock_type) {
  if (!var.data_member.empty()) return var.function + var.data_member;
  std::uint64_t unit = pthread_object_size(lock_type);
  if (var.data_size > unit && var.data_size % unit == 0 && var.data_offset % unit == 0) {
    return var.function + "[" + std::to_string(var.data_offset / unit) + "]";
  }
  if (var.data_offset != 0) return var.function + "+" + std::to_string(var.data_offset);
  return var.function;
}
}  // namespace

Model::Model(const TraceSet& set) : set_(set) {
  intern_held_set({});  // id 0: no locks held
  first_ns_.assign(set.processes().size(), 0);
  last_ns_.assign(set.processes().size(), 0);
}

std::uint32_t Model::thread_index_slow(std::uint32_t process, std::uint32_t tid, ThreadCacheEntry& cache) {
  const ObjectKey key{process, tid};
  // find before emplace: emplace allocates a node even when the key exists.
  auto found = thread_ids_.find(key);
  if (found == thread_ids_.end()) {
    found = thread_ids_.emplace(key, std::uint32_t(threads_.size())).first;
    ThreadState t;
    t.process = process;
    t.tid = tid;
    t.label = tid == 0 ? "process" : "thread " + std::to_string(tid);
    if (set_.processes().size() > 1) t.label += " of pid " + std::to_string(set_.processes()[process].pid);
    // Each thread starts its own clock at 1 so its first epoch is distinguishable from "none".
    t.vc.set(found->second, 1);
    t.hard.set(found->second, 1);
    threads_.push_back(std::move(t));
    thread_at_.push_back(&threads_.back());
  }
  cache = ThreadCacheEntry{process, tid, found->second};
  return found->second;
}

bool Model::is_lock(std::uint32_t process, std::uint64_t id) const { return lock_ids_.count(ObjectKey{object_scope(process, id), id}) != 0; }

std::uint32_t Model::lock_index_slow(std::uint32_t process, std::uint64_t id, LockCacheEntry& c) {
  ObjectKey key{object_scope(process, id), id};
  auto found = lock_ids_.find(key);
  if (found != lock_ids_.end()) {
    c = LockCacheEntry{key, found->second, true};
    return found->second;
  }
  auto [it, fresh] = lock_ids_.emplace(ObjectKey{object_scope(process, id), id}, std::uint32_t(locks_.size()));
  if (fresh) {
    LockInfo l;
    l.key = ObjectKey{process, id};
    l.name = set_.object_word(id);
    if (l.name.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "lock#%llx", static_cast<unsigned long long>(id & 0xffffffffffull));
      l.name = buf;
    }
    locks_.push_back(std::move(l));
  }
  return it->second;
}

Location Model::location(std::uint32_t process, std::uint32_t site, std::string role, std::uint32_t thread) const {
  Location l;
  const Site* s = set_.site(process, site);
  if (s != nullptr) {
    l.file = s->file.empty() ? s->location() : s->file;
    l.line = s->line;
    l.function = s->function;
    // Callers in the user's code; system libraries, system headers, lockgraph's own runtime and
    // unsymbolized frames add nothing at 2 a.m.
    // This thread's own way there (each thread records its stack at a site once).
    if (const SiteStack* stack = s->stack_of(Model::thread(thread).tid)) {
      for (const SiteFrame& f : stack->frames) {
        if (f.line == 0 || is_system_module(f.module) || !is_programs_own_source(f.file)) continue;
        l.stack.push_back(f.function + " (" + f.file + ":" + std::to_string(f.line) + ")");
      }
    }
  } else {
    l.file = "?";
  }
  l.role = std::move(role);
  l.thread = Model::thread(thread).label;
  l.locks_held = held_names(thread);
  return l;
}

std::vector<std::string> Model::held_names(std::uint32_t thread) const {
  std::vector<std::string> out;
  for (const HeldLock& h : Model::thread(thread).held) out.push_back(locks_[h.lock].name);
  return out;
}

std::string Model::variable_name(std::uint32_t process, std::uint64_t address) const {
  auto pit = variables_.find(process);
  if (pit == variables_.end()) return {};
  auto it = pit->second.upper_bound(address);
  if (it == pit->second.begin()) return {};
  --it;
  if (address < it->first + it->second.first) {
    return address == it->first ? it->second.second
                                : it->second.second + "+" + std::to_string(address - it->first);
  }
  return {};
}

std::uint32_t Model::intern_held_set(const std::vector<std::uint32_t>& sorted) {
  Fnv1a hash;
  for (std::uint32_t l : sorted) hash.word(l);
  std::uint32_t& head = held_set_ids_.find_or_insert(hash.value());
  std::uint32_t id = head;  // + 1
  while (id != 0 && held_sets_[id - 1] != sorted) id = held_set_next_[id - 1];
  if (id == 0) {
    id = std::uint32_t(held_sets_.size()) + 1;
    held_sets_.push_back(sorted);
    held_set_next_.push_back(head);
    head = id;
  }
  return id - 1;
}

std::uint32_t Model::held_set_after(std::uint32_t from, std::uint32_t lock, bool added) {
  const std::uint64_t key = std::uint64_t(from) << 33 | std::uint64_t(lock) << 1 | std::uint64_t(added);
  if (std::uint32_t* known = held_set_moves_.find(key)) return *known - 1;
  std::vector<std::uint32_t>& set = held_scratch_;  // reused: no allocation per new transition
  set = held_sets_[from];
  auto at = std::lower_bound(set.begin(), set.end(), lock);
  if (added && (at == set.end() || *at != lock)) set.insert(at, lock);
  if (!added && at != set.end() && *at == lock) set.erase(at);
  const std::uint32_t to = intern_held_set(set);
  held_set_moves_.find_or_insert(key) = to + 1;
  return to;
}

std::string Model::variable_label(std::uint32_t process, std::uint64_t address) const {
  std::string name = variable_name(process, address);
  if (!name.empty()) return name;
  name = set_.global_name(process, address);
  if (!name.empty()) return name;
  char buf[40];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(address));
  return buf;
}

std::string Model::object_name(std::uint32_t process, std::uint64_t id) const {
  auto lit = lock_ids_.find(ObjectKey{object_scope(process, id), id});
  if (lit != lock_ids_.end()) return locks_[lit->second].name;
  auto it = object_names_.find(ObjectKey{object_scope(process, id), id});
  if (it != object_names_.end()) return it->second;
  std::string word = set_.object_word(id);
  if (!word.empty()) return word;
  char buf[40];
  std::snprintf(buf, sizeof buf, "object#%llx", static_cast<unsigned long long>(id & 0xffffffffffull));
  return buf;
}

std::string Model::process_label(std::uint32_t process) const {
  const ProcessInfo& p = set_.processes()[process];
  return "pid " + std::to_string(p.pid) + (p.program.empty() ? "" : " (" + p.program + ")");
}

std::uint64_t Model::end_ns(std::uint32_t process) const {
  return std::max(set_.processes()[process].end_ns, last_ns_[process]);
}

std::uint64_t Model::run_ns(std::uint32_t process) const {
  const ProcessInfo& p = set_.processes()[process];
  std::uint64_t start = p.start_ns ? p.start_ns : first_ns_[process];
  std::uint64_t end = std::max(p.end_ns, last_ns_[process]);
  return end > start ? end - start : 0;
}

// Every hand-off that reaches here is structural (not a lock): it advances both clocks. Lock
// release/acquire update only the full clock, in on_lock_release/on_lock_acquired.
void Model::release_to(SyncClock& s, ThreadState& t) {
  s.vc.join(t.vc);
  t.vc.tick(current_);
  s.hard.join(t.hard);
  t.hard.tick(current_);
}

void Model::acquire_from(const SyncClock& s, ThreadState& t) {
  t.vc.join(s.vc);
  t.hard.join(s.hard);
}

void Model::on_lock_acquired(const Event& e, std::uint32_t ti) {
  const std::uint32_t li = current_lock_;
  LockInfo& l = locks_[li];
  ThreadState& t = thread(ti);
  t.pending_lock.reset();
  bool shared = e.flags & format::kAcqShared;
  t.vc.join(l.release_vc);
  if (!shared && !l.read_release_vc.empty()) t.vc.join(l.read_release_vc);  // empty unless a reader released
  if (e.flags & format::kAcqRecursive) {
    for (HeldLock& h : t.held) {
      if (h.lock == li) ++h.depth;
    }
    return;
  }
  ++l.acquisitions;
  if (e.flags & format::kAcqContended) {
    ++l.contended;
    if (t.pending_since != 0 && e.time > t.pending_since) {
      std::uint64_t w = e.time - t.pending_since;
      l.wait_total_ns += w;
      l.wait_max_ns = std::max(l.wait_max_ns, w);
      t.blocked_ns += w;
      add_span(ti, li, t.pending_since, e.time, true);
    }
  }
  t.pending_since = 0;
  const bool already = std::any_of(t.held.begin(), t.held.end(), [&](const HeldLock& h) { return h.lock == li; });
  t.held.push_back(HeldLock{li, e.site, shared, 1, e.time, t.held_set});
  ++t.held_version;
  if (!already) t.held_set = held_set_after(t.held_set, li, true);
  l.holders.push_back(ti);
}

void Model::on_lock_release(const Event& e, std::uint32_t ti) {
  const std::uint32_t li = current_lock_;
  LockInfo& l = locks_[li];
  ThreadState& t = thread(ti);
  std::uint32_t self = ti;
  // Joining, not assigning: a release by a thread that does not hold the lock (misuse) must not
  // erase the previous holder's clock.
  if (e.flags & format::kAcqShared) {
    l.read_release_vc.join(t.vc);
  } else {
    l.release_vc.join(t.vc);
  }
  t.vc.tick(self);
  auto it = std::find_if(t.held.rbegin(), t.held.rend(), [&](const HeldLock& h) { return h.lock == li; });
  if (it == t.held.rend()) return;  // not held: lock_misuse reports it
  if (it->depth > 1) {
    --it->depth;
    return;
  }
  if (it->acquired_time != 0 && e.time > it->acquired_time) {
    std::uint64_t h = e.time - it->acquired_time;
    l.hold_total_ns += h;
    l.hold_max_ns = std::max(l.hold_max_ns, h);
    ++l.holds_timed;
    add_span(ti, li, it->acquired_time, e.time, false);
  }
  // Released last-in first-out (the usual case) the set goes back to what it was before the
  // acquisition, without a lookup; out of order, the entries after it cannot count on theirs.
  const bool last = it == t.held.rbegin();
  const std::uint32_t set_before = it->set_before;
  auto erased = t.held.erase(std::next(it).base());
  for (; erased != t.held.end(); ++erased) erased->set_before = HeldLock::kSetUnknown;
  ++t.held_version;
  if (last && set_before != HeldLock::kSetUnknown) {
    t.held_set = set_before;
  } else if (std::none_of(t.held.begin(), t.held.end(), [&](const HeldLock& h) { return h.lock == li; })) {
    t.held_set = held_set_after(t.held_set, li, false);
  }
  auto hit = std::find(l.holders.begin(), l.holders.end(), ti);
  if (hit != l.holders.end()) l.holders.erase(hit);
}

void Model::add_span(std::uint32_t thread, std::uint32_t lock, std::uint64_t begin, std::uint64_t end, bool wait) {
  if (spans_.size() >= Timeline::kMaxSpans) {
    ++spans_dropped_;
    return;
  }
  spans_.push_back(TimelineSpan{thread, lock, begin, end, wait});
}

void Model::apply_event(const Event& e) {
  std::uint32_t ti = current_;
  if (e.time != 0 && e.process < first_ns_.size()) {
    if (first_ns_[e.process] == 0 || e.time < first_ns_[e.process]) first_ns_[e.process] = e.time;
    last_ns_[e.process] = std::max(last_ns_[e.process], e.time);
    ThreadState& self = thread(ti);
    if (self.first_ns == 0 || e.time < self.first_ns) self.first_ns = e.time;
    self.last_ns = std::max(self.last_ns, e.time);
  }
  ThreadState& t = thread(ti);
  auto handoff = [&](int kind, std::uint64_t a, std::uint64_t b = 0) -> SyncClock& {
    return handoffs_[{e.process, kind, a, b}];
  };
  switch (e.kind) {
    case Kind::kThreadCreate:
      release_to(handoff(kCreate, e.object), t);
      break;
    case Kind::kThreadStart: {
      t.started = true;
      if (e.object != 0) {
        // A thread starts once: the creation hand-off is consumed (10,000 short-lived threads must
        // not keep 10,000 clocks).
        auto it = handoffs_.find({e.process, kCreate, e.thread, 0});
        if (it != handoffs_.end()) {
          acquire_from(it->second, t);
          handoffs_.erase(it);
        }
      } else if (e.thread == 1 && set_.processes()[e.process].fork_id != 0) {
        // The first thread of a forked child starts after its parent's fork().
        for (std::uint32_t q = 0; q < set_.processes().size(); ++q) {
          if (set_.processes()[q].pid == set_.processes()[e.process].ppid) {
            auto it = handoffs_.find({q, kFork, set_.processes()[e.process].fork_id, 0});
            if (it != handoffs_.end()) acquire_from(it->second, t);
          }
        }
      }
      break;
    }
    case Kind::kThreadEnd:
      t.ended = true;
      release_to(handoff(kEnd, e.thread), t);
      // The thread records nothing more: its clocks live on in the hand-off only.
      t.vc = VectorClock();
      t.hard = VectorClock();
      break;
    case Kind::kThreadJoin: {
      auto it = handoffs_.find({e.process, kEnd, e.object, 0});
      if (it != handoffs_.end()) {
        acquire_from(it->second, t);
        handoffs_.erase(it);  // a second join is misuse (misuse.cpp), with nothing to order
      }
      thread(thread_index(e.process, std::uint32_t(e.object))).joined = true;
      break;
    }
    case Kind::kThreadName: {
      std::string_view name = set_.string(e.process, std::uint32_t(e.value));
      if (!name.empty()) {
        t.label = "thread " + std::to_string(e.thread) + " (" + std::string(name) + ")";
        if (set_.processes().size() > 1) t.label += " of pid " + std::to_string(set_.processes()[e.process].pid);
      }
      break;
    }
    case Kind::kThreadDetach:
      thread(thread_index(e.process, std::uint32_t(e.object))).detached = true;
      break;
    case Kind::kProcessFork:
      release_to(handoff(kFork, e.seq), t);
      break;
    case Kind::kLockCreate: {
      // An id (an address, for interposed locks) reused after its lock was destroyed names a new lock.
      auto old = lock_ids_.find(ObjectKey{object_scope(e.process, e.object), e.object});
      if (old != lock_ids_.end() && locks_[old->second].destroyed) {
        ObjectKey reused = old->first;
        lock_ids_.erase(old);
        for (LockCacheEntry& c : lock_cache_) c.valid = c.valid && !(c.key == reused);
      }
      std::uint32_t li = lock_index(e.process, e.object);
      LockInfo& l = locks_[li];
      l.type = e.flags;
      l.create_site = e.site;
      std::string_view given = set_.string(e.process, std::uint32_t(e.value));
      // Interposed locks carry the data site of their address: a global is named after itself.
      const Site* var = e.value2 != 0 ? set_.site(e.process, std::uint32_t(e.value2)) : nullptr;
      if (!given.empty()) {
        l.name = std::string(given);
        l.named = true;
      } else if (var != nullptr && var->data && !var->function.empty()) {
        l.name = variable_element_name(*var, e.flags);
        l.named = true;
      } else {
        const Site* s = set_.site(e.process, e.site);
        l.name = std::string(lock_type_name(e.flags)) + "@" + (s ? s->location() : std::string("?"));
        // Counted by name, not by site: two sites can name one line (a lock made inside an inlined
        // std::make_unique, reached from two callers, is two sites; see Site::by_caller).
        const std::uint32_t n = ++creations_per_name_[std::to_string(e.process) + ' ' + l.name];
        if (n > 1) l.name += "#" + std::to_string(n);
      }
      break;
    }
    case Kind::kLockDestroy:
      locks_[current_lock_].destroyed = true;
      break;
    case Kind::kLockRequest:
      if (resolves_lock(e)) {  // a blocking request: begin() resolved its lock
        t.pending_lock = current_lock_;
        t.pending_site = e.site;
      }
      t.pending_since = e.time;
      break;
    case Kind::kLockFailed:
      t.pending_lock.reset();
      if (t.pending_since != 0 && e.time > t.pending_since) t.blocked_ns += e.time - t.pending_since;
      t.pending_since = 0;
      break;
    case Kind::kLockAcquired:
      on_lock_acquired(e, ti);
      break;
    case Kind::kLockRelease:
      on_lock_release(e, ti);
      break;
    case Kind::kSemRelease:
    case Kind::kEventSet:
    case Kind::kHbRelease:
    case Kind::kBarrierArrive:
      release_to(sync_[ObjectKey{object_scope(e.process, e.object), e.object}], t);
      break;
    case Kind::kSemAcquired:
    case Kind::kHbAcquire:
    case Kind::kBarrierDepart:
      acquire_from(sync_[ObjectKey{object_scope(e.process, e.object), e.object}], t);
      break;
    case Kind::kEventWaitEnd:
      if (e.flags & 1) acquire_from(sync_[ObjectKey{object_scope(e.process, e.object), e.object}], t);
      break;
    case Kind::kAtomic: {
      // flags: bits 0-1 operation (1 load, 2 store, 3 read-modify-write), bits 2-4 the
      // std::memory_order (0 relaxed, 1 consume, 2 acquire, 3 release, 4 acq_rel, 5 seq_cst).
      // A release store synchronizes with the acquire loads after it on the same address.
      unsigned op = e.flags & 3u;
      unsigned order = (e.flags >> format::kAtomicOrderShift) & 7u;
      bool releases = (op == format::kAtomicStore || op == format::kAtomicRmw) && order >= 3;
      bool acquires = (op == format::kAtomicLoad || op == format::kAtomicRmw) && (order == 1 || order == 2 || order >= 4);
      // value2 is the address (the object is the hashed slot that orders it), when recorded.
      SyncClock& s = sync_[ObjectKey{e.process, e.value2 != 0 ? e.value2 : e.object}];
      if (acquires) acquire_from(s, t);
      if (releases) release_to(s, t);
      break;
    }
    case Kind::kPoolSubmit:
      release_to(handoff(kSubmit, e.object, e.value), t);
      break;
    case Kind::kPoolTaskStart:
      acquire_from(handoff(kSubmit, e.object, e.value), t);
      break;
    case Kind::kPoolTaskEnd:
      release_to(handoff(kTaskEnd, e.object, e.value), t);
      break;
    case Kind::kPoolResult:
    case Kind::kPoolCallback:
      acquire_from(handoff(kTaskEnd, e.object, e.value), t);
      break;
    case Kind::kSemCreate:
    case Kind::kEventCreate:
    case Kind::kCondCreate:
    case Kind::kPoolCreate: {
      auto field = name_field(e.kind);
      std::string_view given = set_.string(e.process, std::uint32_t(e.*field));
      std::string kind = e.kind == Kind::kSemCreate ? "semaphore" : e.kind == Kind::kEventCreate ? "event"
                         : e.kind == Kind::kCondCreate ? "condition_variable" : "thread_pool";
      object_names_[ObjectKey{object_scope(e.process, e.object), e.object}] =
          given.empty() ? kind + "@" + set_.location(e.process, e.site) : std::string(given);
      break;
    }
    case Kind::kVarName: {
      std::string name(set_.string(e.process, std::uint32_t(e.value2)));
      if (!name.empty()) {
        variables_[e.process][e.object] = {e.value ? e.value : 1, name};
        ++variable_names_version_;
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace lockgraph::analysis
