// lock_misuse: operations that are wrong whatever the timing — unlock of a lock not held, unlock
// by a thread that does not own it, destroy while held, thread exit while holding, semaphore
// released past its maximum, join of a joined or detached thread.
#include <map>

#include "detector.hpp"

namespace lockgraph::analysis {
namespace {

class MisuseDetector : public Detector {
 public:
  Hook hook() const override { return Hook::kBefore; }
  bool wants(Kind k) const override {
    switch (k) {
      case Kind::kLockRelease:
      case Kind::kLockDestroy:
      case Kind::kThreadEnd:
      case Kind::kSemCreate:
      case Kind::kSemRelease:
      case Kind::kThreadJoin:
        return true;
      default:
        return false;
    }
  }

  void before(const Event& e, Model& m) override {
    std::uint32_t ti = m.current_thread();
    const ThreadState& t = m.thread(ti);
    switch (e.kind) {
      case Kind::kLockRelease: {
        const std::uint32_t li = m.current_lock();
        bool mine = false;
        for (const HeldLock& h : t.held) mine = mine || h.lock == li;
        if (mine) break;
        const LockInfo& l = m.lock(li);
        if (l.holders.empty()) {
          add(m, e, ti, "unlock of " + l.name + ", which is not locked", "unlocks " + l.name,
              "Unlock only what this thread locked; prefer std::lock_guard / std::unique_lock.", {l.name});
        } else {
          add(m, e, ti, "unlock of " + l.name + " by " + t.label + ", which does not own it (held by " +
                            m.thread(l.holders.front()).label + ")",
              "unlocks " + l.name, "A mutex must be unlocked by the thread that locked it.", {l.name});
        }
        break;
      }
      case Kind::kLockDestroy: {
        const std::uint32_t li = m.current_lock();
        const LockInfo& l = m.lock(li);
        if (!l.holders.empty()) {
          add(m, e, ti, l.name + " destroyed while held by " + m.thread(l.holders.front()).label,
              "destroys " + l.name, "Unlock before the mutex goes out of scope; check object lifetimes.", {l.name});
        }
        break;
      }
      case Kind::kThreadEnd:
        if (!t.held.empty()) {
          std::string names;
          for (const auto& n : m.held_names(ti)) names += (names.empty() ? "" : ", ") + n;
          const HeldLock& h = t.held.back();
          Event at = e;
          at.site = h.site;
          add(m, at, ti, t.label + " exited while holding " + names, "acquired here and never released",
              "Release every lock before the thread returns (RAII guards do it for you).", m.held_names(ti));
        }
        break;
      case Kind::kSemCreate:
        sem_max_[ObjectKey{e.process, e.object}] = e.value2;
        break;
      case Kind::kSemRelease: {
        auto it = sem_max_.find(ObjectKey{e.process, e.object});
        if (it != sem_max_.end() && e.value2 > it->second) {
          add(m, e, ti,
              "semaphore " + m.object_name(e.process, e.object) + " released past its maximum (" + std::to_string(e.value2) + " > " + std::to_string(it->second) + ")",
              "releases " + m.object_name(e.process, e.object),
              "Release only what was acquired; a release without a matching acquire is a bug.",
              {m.object_name(e.process, e.object)});
        }
        break;
      }
      case Kind::kThreadJoin: {
        const ThreadState& child = m.thread(m.thread_index(e.process, std::uint32_t(e.object)));
        if (child.joined || child.detached) {
          add(m, e, ti, "join of " + child.label + ", which was already " + (child.joined ? "joined" : "detached"),
              "joins", "Join each thread exactly once, and never a detached one.", {child.label});
        }
        break;
      }
      default:
        break;
    }
  }

  void finish(Model&, AnalysisResult& result) override {
    for (auto& [key, f] : findings_) result.findings.push_back(std::move(f));
  }

 private:
  void add(Model& m, const Event& e, std::uint32_t ti, const std::string& message, const std::string& role,
           const std::string& advice, std::vector<std::string> objects) {
    auto key = std::make_pair(message, e.site);
    auto it = findings_.find(key);
    if (it != findings_.end()) {
      ++it->second.count;
      return;
    }
    Finding f;
    f.kind = std::string(kLockMisuse);
    f.severity = Severity::kError;
    f.message = message;
    f.threads = {m.thread(ti).label};
    f.objects = std::move(objects);
    f.locations.push_back(m.location(e.process, e.site, role, ti));
    f.advice = advice;
    if (m.multi_process()) f.process = m.process_label(e.process);
    findings_.emplace(key, std::move(f));
  }

  std::map<std::pair<std::string, std::uint32_t>, Finding> findings_;
  std::map<ObjectKey, std::uint64_t> sem_max_;
};

}  // namespace

std::unique_ptr<Detector> make_misuse_detector() { return std::make_unique<MisuseDetector>(); }

}  // namespace lockgraph::analysis
