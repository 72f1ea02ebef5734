// data_race: FastTrack-style happens-before race detection over recorded plain accesses
// (Flanagan & Freund, "FastTrack: Efficient and Precise Dynamic Race Detection", PLDI 2009).
//
// Shadow state per 8-byte granule: the last write to each byte as an epoch, and the reads since
// (one per thread; reads ordered before a newer read of the same thread are dropped, which is
// FastTrack's read-epoch / read-set adaptivity). Byte masks make "the same bytes" precise within a
// granule. Atomic accesses are not looked at: atomics never race with each other.
// Findings are aggregated per (variable, pair of sites, pair of access kinds) with a count.
#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>

#include "detector.hpp"
#include "lockgraph/analyzer/flat_map.hpp"
#include "race_shadow.hpp"

namespace lockgraph::analysis {
namespace {

// One finding per (variable, pair of sites, pair of access kinds). The variable is its label's
// id (labels_), so the per-race lookup hashes integers instead of comparing names.
struct RaceKey {
  std::uint32_t label = 0;
  std::uint32_t process = 0;
  std::uint32_t site_a = 0, site_b = 0;
  bool write_a = false, write_b = false;
  bool operator==(const RaceKey&) const = default;
};
struct RaceKeyHash {
  std::size_t operator()(const RaceKey& k) const noexcept {
    std::uint64_t h = (std::uint64_t(k.label) << 32 | k.process) * 0x9E3779B97F4A7C15ull;
    h ^= (std::uint64_t(k.site_a) << 32 | k.site_b) * 0xC2B2AE3D27D4EB4Full;
    h ^= std::uint64_t(k.write_a) << 1 | std::uint64_t(k.write_b);
    return std::size_t(h ^ (h >> 29));
  }
};

struct RaceRecord {
  Access first, second;
  std::uint64_t count = 0;
};

constexpr std::uint64_t kMaxRangeGranules = 1u << 16;  // larger ranges are checked on their first 512 KiB

class RaceDetector : public Detector {
 public:
  Hook hook() const override { return Hook::kAfter; }
  bool wants(Kind k) const override { return is_plain_access(k) || k == Kind::kMemFree; }

  void after(const Event& e, Model& m) override {
    if (e.kind == Kind::kMemFree && e.value != 0) {
      // Freed memory: its next owner (whose allocation the replay puts after this) starts afresh.
      reset_range<decltype(shadow_), ObjectKey>(shadow_, e.process, e.value2 >> 3, (e.value2 + e.value - 1) >> 3);
      return;
    }
    if (!is_plain_access(e.kind)) return;
    std::uint32_t ti = m.current_thread();
    if (ti >= Access::kMaxThreads) {  // a shadow entry has 24 bits for the thread: said in finish()
      ++unchecked_;
      return;
    }
    const ThreadState& t = m.thread(ti);
    std::uint64_t size = std::max<std::uint64_t>(1, e.access_size());
    Access cur(ti, t.vc.get(ti), e.site, lockset_id(m, ti, t), is_write(e.kind));
    std::uint64_t first = e.object >> 3, last = (e.object + size - 1) >> 3;
    last = std::min(last, first + kMaxRangeGranules - 1);
    for (std::uint64_t g = first; g <= last; ++g) {
      std::uint64_t lo = std::max(e.object, g << 3), hi = std::min(e.object + size, (g + 1) << 3);
      // Bytes lo & 7 .. (hi - lo) further of the granule (hi - lo is 1..8).
      cur.set_mask(std::uint8_t(((1u << (hi - lo)) - 1) << (lo & 7)));
      check(m, e.process, e.object, shadow_.find_or_insert(ObjectKey{e.process, g}), cur, t.vc);
    }
  }

  void finish(Model& m, AnalysisResult& result) override {
    if (unchecked_ != 0) {
      result.problems.push_back({"", 0, "data_race: " + std::to_string(unchecked_) + " accesses of threads beyond the " +
                                            std::to_string(Access::kMaxThreads) + "th were not checked"});
    }
    // In the order of the variables' names (then sites and kinds): reports do not depend on hashing.
    std::vector<std::pair<const RaceKey*, const RaceRecord*>> order;
    races_.for_each([&](const RaceKey& k, const RaceRecord& r) { order.emplace_back(&k, &r); });
    std::sort(order.begin(), order.end(), [&](const auto& x, const auto& y) {
      const RaceKey& a = *x.first;
      const RaceKey& b = *y.first;
      return std::tie(labels_[a.label], a.process, a.site_a, a.site_b, a.write_a, a.write_b) <
             std::tie(labels_[b.label], b.process, b.site_a, b.site_b, b.write_a, b.write_b);
    });
    for (const auto& [k, r] : order) {
      const RaceKey& key = *k;
      const RaceRecord& rec = *r;
      Finding f;
      f.kind = std::string(kDataRace);
      f.severity = Severity::kError;
      f.count = rec.count;
      const ThreadState& ta = m.thread(rec.first.thread());
      const ThreadState& tb = m.thread(rec.second.thread());
      const std::string& what = labels_[key.label];
      f.objects.push_back(what);
      f.threads = {ta.label, tb.label};
      auto kind = [](bool w) { return w ? "write" : "read"; };
      Location a = m.location(ta.process, rec.first.site(), std::string(kind(rec.first.write())) + " by " + ta.label,
                              rec.first.thread());
      Location b = m.location(tb.process, rec.second.site(), std::string(kind(rec.second.write())) + " by " + tb.label,
                              rec.second.thread());
      a.locks_held = locksets_[rec.first.lockset()];
      b.locks_held = locksets_[rec.second.lockset()];
      const bool no_locks = a.locks_held.empty() && b.locks_held.empty();
      f.locations.reserve(2);
      f.locations.push_back(std::move(a));
      f.locations.push_back(std::move(b));
      f.message = "data race on " + what + ": " + kind(rec.first.write()) + " by " + ta.label + " and " +
                  kind(rec.second.write()) + " by " + tb.label + " are not ordered by any synchronization" +
                  (rec.count > 1 ? " (seen " + std::to_string(rec.count) + " times)" : "");
      f.advice = no_locks
                     ? "Protect " + what + " with a mutex held on both paths, make it std::atomic, or order the threads (join, event, semaphore)."
                     : "The two paths hold different locks; use one lock for " + what + " on every path.";
      if (m.multi_process()) f.process = m.process_label(ta.process);
      result.findings.push_back(std::move(f));
    }
  }

 private:
  // `address`: where the current access starts (it names the variable).
  void check(Model& m, std::uint32_t process, std::uint64_t address, RaceShadow& s, const Access& cur,
             const VectorClock& vc) {
    // A read conflicts with the writes, a write with everything. Writes are reported before
    // reads (the order of the two lists this one replaced: the first report of a pair of sites
    // is the one a finding shows).
    auto races_with = [&](const Access& prev) {
      return prev.thread() != cur.thread() && (prev.mask() & cur.mask()) != 0 &&
             !vc.covers(Epoch{prev.thread(), prev.clock()});
    };
    bool any_read = false;
    for (const Access& a : s) {
      any_read |= !a.write();
      if (a.write() && races_with(a)) report(m, process, address, a, cur);
    }
    if (cur.write()) {
      if (any_read) {
        for (const Access& a : s) {
          if (!a.write() && races_with(a)) report(m, process, address, a, cur);
        }
      }
      // This write supersedes earlier accesses to its bytes only.
      s.erase_if([&](Access& a) {
        a.set_mask(std::uint8_t(a.mask() & ~cur.mask()));
        return a.mask() == 0;
      });
    } else if (any_read) {
      // Reads that happen-before this one add nothing any more.
      s.erase_if([&](const Access& a) {
        return !a.write() && vc.covers(Epoch{a.thread(), a.clock()}) && (a.mask() & ~cur.mask()) == 0;
      });
    }
    s.add(cur);
  }

  void report(Model& m, std::uint32_t process, std::uint64_t address, const Access& prev, const Access& cur) {
    RaceKey key{label_of(m, process, address), process, prev.site(), cur.site(), prev.write(), cur.write()};
    RaceRecord& r = races_.find_or_insert(key);
    if (r.count == 0) {
      r.first = prev;
      r.second = cur;
    }
    ++r.count;
  }

  // The id of the variable's label (its name, or the address in hex). Naming walks the model's
  // variables and builds a string, and a hot race repeats millions of times: cached per address
  // until the program names another variable.
  std::uint32_t label_of(Model& m, std::uint32_t process, std::uint64_t address) {
    if (m.variable_names_version() != names_version_) {
      label_cache_ = {};
      names_version_ = m.variable_names_version();
    }
    std::uint32_t& slot = label_cache_.find_or_insert(ObjectKey{process, address});  // id + 1
    if (slot == 0) {
      auto [it, fresh] = label_ids_.emplace(m.variable_label(process, address), std::uint32_t(labels_.size()));
      if (fresh) labels_.push_back(it->first);
      slot = it->second + 1;
    }
    return slot - 1;
  }

  // The model's id of the set of locks the thread holds; the names of a set's locks are kept
  // (in the thread's acquisition order) the first time a set is seen.
  std::uint32_t lockset_id(Model& m, std::uint32_t ti, const ThreadState& t) {
    std::uint32_t id = m.held_set_id(ti);
    if (id >= lockset_named_.size()) {
      lockset_named_.resize(id + 1, false);
      locksets_.resize(id + 1);
    }
    if (!lockset_named_[id]) {
      lockset_named_[id] = true;
      for (const HeldLock& h : t.held) locksets_[id].push_back(m.lock(h.lock).name);
    }
    return id;
  }

 private:
  FlatMap<ObjectKey, RaceShadow, ObjectKeyHash> shadow_;
  FlatMap<RaceKey, RaceRecord, RaceKeyHash> races_;
  FlatMap<ObjectKey, std::uint32_t, ObjectKeyHash> label_cache_;
  std::uint64_t names_version_ = 0;
  std::unordered_map<std::string, std::uint32_t> label_ids_;
  std::vector<std::string> labels_;
  std::vector<std::vector<std::string>> locksets_;  // per held set id: the names of its locks
  std::vector<bool> lockset_named_;
  std::uint64_t unchecked_ = 0;  // accesses of threads the shadow cannot name
};

}  // namespace

std::unique_ptr<Detector> make_race_detector() { return std::make_unique<RaceDetector>(); }

}  // namespace lockgraph::analysis
