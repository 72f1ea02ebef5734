// unprotected_write: the Eraser lockset view (Savage, Burrows, Nelson, Sobalvarro, Anderson,
// "Eraser: A Dynamic Data Race Detector for Multithreaded Programs", SOSP 1997).
//
// Per 8-byte granule: Exclusive while only its first thread touches it (initialization needs no
// lock); once a second thread touches it, the candidate lockset starts as the locks held then and
// is intersected at every access (writes count exclusive holds only). A granule written by two or
// more threads whose candidate set became empty is reported — even when this run's timing (or a
// join) happened to order the writes, which is what distinguishes this view from data_race.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "detector.hpp"

namespace lockgraph::analysis {
namespace {

struct WriteSite {
  std::uint32_t thread = 0;
  std::uint32_t site = 0;
  std::vector<std::string> held;
};

struct VarState {
  std::vector<Epoch> last;  // latest access of each thread, on the hard (non-lock) clock
  std::uint32_t first_thread = 0;
  bool shared = false;
  bool exclusive_locked = true;          // the first thread held a lock on every access so far
  std::vector<std::uint32_t> exclusive;  // intersection of its locksets
  bool reported = false;
  std::vector<std::uint32_t> candidate;  // sorted lock indices
  std::vector<WriteSite> writers;        // one per distinct writing thread (first two kept)
};

class LocksetDetector : public Detector {
 public:
  void after(const Event& e, Model& m) override {
    if (!is_plain_access(e.kind)) return;
    std::uint32_t ti = m.thread_index(e.process, e.thread);
    const ThreadState& t = m.thread(ti);
    bool write = is_write(e.kind);
    std::vector<std::uint32_t> held;
    for (const HeldLock& h : t.held) {
      if (!write || !h.shared) held.push_back(h.lock);
    }
    std::sort(held.begin(), held.end());
    std::uint64_t granule = e.object >> 3;
    auto [it, inserted] = vars_.try_emplace(ObjectKey{e.process, granule});
    bool fresh = inserted;
    VarState& v = it->second;
    // Ownership transfer: an access ordered after every earlier access by thread start/join,
    // semaphores, events or pools (not by the locks themselves) starts the variable afresh, as
    // the main thread reading results after join() does.
    bool transferred = !fresh && std::all_of(v.last.begin(), v.last.end(), [&](const Epoch& p) {
      return p.thread == ti || t.hard.covers(p);
    });
    if (transferred && !v.reported) {
      v = VarState{};
      fresh = true;
    }
    if (fresh) {
      v.first_thread = ti;
      v.exclusive = held;
    }
    auto self = std::find_if(v.last.begin(), v.last.end(), [&](const Epoch& p) { return p.thread == ti; });
    if (self == v.last.end()) {
      v.last.push_back(t.hard.epoch(ti));
    } else {
      *self = t.hard.epoch(ti);
    }
    if (!v.shared && ti == v.first_thread) {
      std::vector<std::uint32_t> next;
      std::set_intersection(v.exclusive.begin(), v.exclusive.end(), held.begin(), held.end(), std::back_inserter(next));
      v.exclusive.swap(next);
      v.exclusive_locked = v.exclusive_locked && !held.empty();
    } else if (!v.shared) {
      // Eraser lets a first thread initialize without locks. A first thread that did lock on
      // every access was not initializing: its locks must also be common with the others'.
      v.shared = true;
      v.candidate = held;
      if (v.exclusive_locked) {
        std::vector<std::uint32_t> next;
        std::set_intersection(v.candidate.begin(), v.candidate.end(), v.exclusive.begin(), v.exclusive.end(),
                              std::back_inserter(next));
        v.candidate.swap(next);
      }
    } else {
      std::vector<std::uint32_t> next;
      std::set_intersection(v.candidate.begin(), v.candidate.end(), held.begin(), held.end(), std::back_inserter(next));
      v.candidate.swap(next);
    }
    if (write && v.writers.size() < 2 &&
        std::none_of(v.writers.begin(), v.writers.end(), [&](const WriteSite& w) { return w.thread == ti; })) {
      v.writers.push_back(WriteSite{ti, e.site, m.held_names(ti)});
    }
    if (v.shared && !v.reported && v.writers.size() >= 2 && v.candidate.empty()) {
      v.reported = true;
      report(m, e.process, e.object, v);
    }
  }

  void finish(Model&, AnalysisResult& result) override {
    for (auto& [key, f] : findings_) result.findings.push_back(std::move(f));
  }

 private:
  void report(Model& m, std::uint32_t process, std::uint64_t address, const VarState& v) {
    std::string var = m.variable_name(process, address);
    if (var.empty()) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(address));
      var = buf;
    }
    const WriteSite& a = v.writers[0];
    const WriteSite& b = v.writers[1];
    auto key = std::make_tuple(var, process, std::min(a.site, b.site), std::max(a.site, b.site));
    if (findings_.count(key)) {
      ++findings_[key].count;
      return;
    }
    Finding f;
    f.kind = std::string(kUnprotectedWrite);
    f.severity = Severity::kWarning;
    f.objects = {var};
    const ThreadState& ta = m.thread(a.thread);
    const ThreadState& tb = m.thread(b.thread);
    f.threads = {ta.label, tb.label};
    Location la = m.location(ta.process, a.site, "write by " + ta.label, a.thread);
    Location lb = m.location(tb.process, b.site, "write by " + tb.label, b.thread);
    la.locks_held = a.held;
    lb.locks_held = b.held;
    f.locations = {la, lb};
    f.message = var + " is written by several threads with no lock common to all its accesses";
    f.advice = "Pick one lock that guards " + var + " and hold it on every access (or make it std::atomic).";
    if (m.multi_process()) f.process = m.process_label(process);
    findings_[key] = std::move(f);
  }

  std::unordered_map<ObjectKey, VarState, ObjectKeyHash> vars_;
  std::map<std::tuple<std::string, std::uint32_t, std::uint32_t, std::uint32_t>, Finding> findings_;
};

}  // namespace

std::unique_ptr<Detector> make_lockset_detector() { return std::make_unique<LocksetDetector>(); }

}  // namespace lockgraph::analysis
