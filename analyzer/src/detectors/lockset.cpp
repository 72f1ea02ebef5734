// unprotected_write: the Eraser lockset view (Savage, Burrows, Nelson, Sobalvarro, Anderson,
// "Eraser: A Dynamic Data Race Detector for Multithreaded Programs", SOSP 1997).
//
// Per 4-byte word (Eraser's unit; two ints of an array are two variables): Exclusive while only its first thread touches it (initialization needs no
// lock); once a second thread touches it, the candidate lockset starts as the locks held then and
// is intersected at every access (writes count exclusive holds only). A granule written by two or
// more threads whose candidate set became empty is reported — even when this run's timing (or a
// join) happened to order the writes, which is what distinguishes this view from data_race.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "detector.hpp"
#include "lockgraph/analyzer/flat_map.hpp"
#include "lockset_state.hpp"

namespace lockgraph::analysis {
namespace {

struct WriteSite {
  std::uint32_t thread = 0;
  std::uint32_t site = 0;
  std::vector<std::string> held;
};

struct VarState {
  std::vector<Epoch> last;  // latest access of each thread, on the hard (non-lock) clock
  LocksetState lockset;     // lock indices
  std::vector<WriteSite> writers;  // one per distinct writing thread (first two kept)
};

// A word's entry in the hash map: its VarState's index + 1, 0 before its first access (or after
// its memory was freed), kReported once reported.
constexpr std::uint32_t kReported = 0xffffffffu;

class LocksetDetector : public Detector {
 public:
  Hook hook() const override { return Hook::kAfter; }
  bool wants(Kind k) const override { return is_plain_access(k) || k == Kind::kMemFree; }

  void after(const Event& e, Model& m) override {
    if (e.kind == Kind::kMemFree && e.value != 0) {
      reset_range<decltype(words_), ObjectKey>(words_, e.process, e.value2 >> 2, (e.value2 + e.value - 1) >> 2,
                                                [&](std::uint32_t& w) { release_state(w); });
      return;
    }
    if (!is_plain_access(e.kind)) return;
    std::uint32_t ti = m.current_thread();
    const ThreadState& t = m.thread(ti);
    std::uint64_t granule = e.object >> 2;
    std::uint32_t& word = words_.find_or_insert(ObjectKey{e.process, granule});
    // Reported: nothing an access does can change what this word reports (no transfer, no
    // second report) until its memory is freed and the state starts afresh.
    if (word == kReported) return;
    bool fresh = word == 0;
    if (fresh) word = new_state() + 1;
    VarState& v = states_[word - 1];
    const bool write = is_write(e.kind);
    const std::vector<std::uint32_t>& held = held_set(ti, t, write);
    // Ownership transfer: an access ordered after every earlier access by thread start/join,
    // semaphores, events or pools (not by the locks themselves) starts the variable afresh, as
    // the main thread reading results after join() does.
    bool transferred = !fresh && std::all_of(v.last.begin(), v.last.end(), [&](const Epoch& p) {
      return p.thread == ti || t.hard.covers(p);
    });
    if (transferred) {
      v = VarState{};
      fresh = true;
    }
    if (fresh) v.lockset.start(ti, held);
    auto self = std::find_if(v.last.begin(), v.last.end(), [&](const Epoch& p) { return p.thread == ti; });
    if (self == v.last.end()) {
      v.last.push_back(t.hard.epoch(ti));
    } else {
      *self = t.hard.epoch(ti);
    }
    v.lockset.access(ti, held);
    if (write && v.writers.size() < 2 &&
        std::none_of(v.writers.begin(), v.writers.end(), [&](const WriteSite& w) { return w.thread == ti; })) {
      v.writers.push_back(WriteSite{ti, e.site, m.held_names(ti)});
    }
    if (v.writers.size() >= 2 && v.lockset.emptied()) {
      report(m, e.process, e.object, v);
      release_state(word);
      word = kReported;
    }
  }

  void finish(Model&, AnalysisResult& result) override {
    for (auto& [key, f] : findings_) result.findings.push_back(std::move(f));
  }

 private:
  // Once per variable and pair of write sites: a program with thousands of shared variables gets
  // thousands of these, so the finding is built in its map slot, without copies.
  void report(Model& m, std::uint32_t process, std::uint64_t address, const VarState& v) {
    std::string var = m.variable_label(process, address);
    const WriteSite& a = v.writers[0];
    const WriteSite& b = v.writers[1];
    auto [slot, fresh] = findings_.try_emplace(std::make_tuple(var, process, std::min(a.site, b.site), std::max(a.site, b.site)));
    if (!fresh) {
      ++slot->second.count;
      return;
    }
    Finding& f = slot->second;
    f.kind = std::string(kUnprotectedWrite);
    f.severity = Severity::kWarning;
    const ThreadState& ta = m.thread(a.thread);
    const ThreadState& tb = m.thread(b.thread);
    f.threads = {ta.label, tb.label};
    f.locations.reserve(2);
    f.locations.push_back(m.location(ta.process, a.site, "write by " + ta.label, a.thread));
    f.locations.back().locks_held = a.held;
    f.locations.push_back(m.location(tb.process, b.site, "write by " + tb.label, b.thread));
    f.locations.back().locks_held = b.held;
    f.message = var + " is written by several threads with no lock common to all its accesses";
    f.advice = "Pick one lock that guards " + var + " and hold it on every access (or make it std::atomic).";
    if (m.multi_process()) f.process = m.process_label(process);
    f.objects.push_back(std::move(var));
  }

  // Sorted lock indices a thread holds (all modes for reads, exclusive for writes), cached per
  // held_version so an access costs no allocation.
  const std::vector<std::uint32_t>& held_set(std::uint32_t ti, const ThreadState& t, bool write) {
    if (ti >= held_cache_.size()) held_cache_.resize(ti + 1);
    HeldCache& c = held_cache_[ti];
    if (c.version != t.held_version) {
      c.version = t.held_version;
      c.any.clear();
      c.exclusive.clear();
      for (const HeldLock& h : t.held) {
        c.any.push_back(h.lock);
        if (!h.shared) c.exclusive.push_back(h.lock);
      }
      std::sort(c.any.begin(), c.any.end());
      std::sort(c.exclusive.begin(), c.exclusive.end());
    }
    return write ? c.exclusive : c.any;
  }

  struct HeldCache {
    std::uint64_t version = ~std::uint64_t(0);
    std::vector<std::uint32_t> any, exclusive;
  };
  // A fresh state's index in states_ (one a reported or freed word gave back, if any).
  std::uint32_t new_state() {
    if (free_states_.empty()) {
      states_.emplace_back();
      return std::uint32_t(states_.size() - 1);
    }
    const std::uint32_t i = free_states_.back();
    free_states_.pop_back();
    states_[i] = VarState{};
    return i;
  }
  void release_state(std::uint32_t word) {
    if (word != 0 && word != kReported) free_states_.push_back(word - 1);
  }

  std::vector<HeldCache> held_cache_;
  // Every access looks its word up; most words in a long run are reported early and need nothing
  // more, so the map holds 4-byte entries (a 24-byte slot, where the state in place made 136: a
  // table of a few thousand words no longer fit the caches) and the states live beside it,
  // recycled once their word is reported or freed.
  FlatMap<ObjectKey, std::uint32_t, ObjectKeyHash> words_;
  std::vector<VarState> states_;
  std::vector<std::uint32_t> free_states_;
  std::map<std::tuple<std::string, std::uint32_t, std::uint32_t, std::uint32_t>, Finding> findings_;
};

}  // namespace

std::unique_ptr<Detector> make_lockset_detector() { return std::make_unique<LocksetDetector>(); }

}  // namespace lockgraph::analysis
