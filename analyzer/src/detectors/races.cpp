// data_race: FastTrack-style happens-before race detection over recorded plain accesses
// (Flanagan & Freund, "FastTrack: Efficient and Precise Dynamic Race Detection", PLDI 2009).
//
// Shadow state per 8-byte granule: the last write to each byte as an epoch, and the reads since
// (one per thread; reads ordered before a newer read of the same thread are dropped, which is
// FastTrack's read-epoch / read-set adaptivity). Byte masks make "the same bytes" precise within a
// granule. Atomic accesses are not looked at: atomics never race with each other.
// Findings are aggregated per (variable, pair of sites, pair of access kinds) with a count.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "detector.hpp"
#include "flat_map.hpp"

namespace lockgraph::analysis {
namespace {

struct Access {
  std::uint32_t thread = 0;  // Model thread index
  std::uint32_t clock = 0;
  std::uint32_t site = 0;
  std::uint32_t lockset = 0;
  std::uint8_t mask = 0;
  bool write = false;
  std::uint64_t address = 0;
};

// The last write and the reads since, per byte of the granule: a write to some bytes leaves the
// accesses to the other bytes in place (two variables can share a granule), so at most 8 of each.
struct Shadow {
  std::vector<Access> writes;
  std::vector<Access> reads;
};

struct RaceKey {
  std::string variable;
  std::uint32_t process;
  std::uint32_t site_a, site_b;
  bool write_a, write_b;
  bool operator<(const RaceKey& o) const {
    return std::tie(variable, process, site_a, site_b, write_a, write_b) <
           std::tie(o.variable, o.process, o.site_a, o.site_b, o.write_a, o.write_b);
  }
};

struct RaceRecord {
  Access first, second;
  std::uint64_t count = 0;
};

constexpr std::uint64_t kMaxRangeGranules = 1u << 16;  // larger ranges are checked on their first 512 KiB

class RaceDetector : public Detector {
 public:
  void after(const Event& e, Model& m) override {
    if (e.kind == Kind::kMemFree && e.value != 0) {
      // Freed memory: its next owner (whose allocation the replay puts after this) starts afresh.
      reset_range<decltype(shadow_), ObjectKey>(shadow_, e.process, e.value2 >> 3, (e.value2 + e.value - 1) >> 3);
      return;
    }
    if (!is_plain_access(e.kind)) return;
    std::uint32_t ti = m.current_thread();
    const ThreadState& t = m.thread(ti);
    std::uint64_t size = std::max<std::uint64_t>(1, e.access_size());
    Access cur;
    cur.thread = ti;
    cur.clock = t.vc.get(ti);
    cur.site = e.site;
    cur.write = is_write(e.kind);
    cur.address = e.object;
    cur.lockset = lockset_id(m, ti, t);
    std::uint64_t first = e.object >> 3, last = (e.object + size - 1) >> 3;
    last = std::min(last, first + kMaxRangeGranules - 1);
    for (std::uint64_t g = first; g <= last; ++g) {
      std::uint64_t lo = std::max(e.object, g << 3), hi = std::min(e.object + size, (g + 1) << 3);
      std::uint8_t mask = 0;
      for (std::uint64_t b = lo; b < hi; ++b) mask |= std::uint8_t(1u << (b & 7));
      cur.mask = mask;
      check(m, e.process, shadow_.find_or_insert(ObjectKey{e.process, g}), cur, t.vc);
    }
  }

  void finish(Model& m, AnalysisResult& result) override {
    for (const auto& [key, rec] : races_) {
      Finding f;
      f.kind = std::string(kDataRace);
      f.severity = Severity::kError;
      f.count = rec.count;
      const ThreadState& ta = m.thread(rec.first.thread);
      const ThreadState& tb = m.thread(rec.second.thread);
      std::string what = key.variable;
      f.objects.push_back(what);
      f.threads = {ta.label, tb.label};
      auto kind = [](bool w) { return w ? "write" : "read"; };
      Location a = m.location(ta.process, rec.first.site, std::string(kind(rec.first.write)) + " by " + ta.label,
                              rec.first.thread);
      Location b = m.location(tb.process, rec.second.site, std::string(kind(rec.second.write)) + " by " + tb.label,
                              rec.second.thread);
      a.locks_held = locksets_[rec.first.lockset];
      b.locks_held = locksets_[rec.second.lockset];
      f.locations = {a, b};
      f.message = "data race on " + what + ": " + kind(rec.first.write) + " by " + ta.label + " and " +
                  kind(rec.second.write) + " by " + tb.label + " are not ordered by any synchronization" +
                  (rec.count > 1 ? " (seen " + std::to_string(rec.count) + " times)" : "");
      f.advice = (a.locks_held.empty() && b.locks_held.empty())
                     ? "Protect " + what + " with a mutex held on both paths, make it std::atomic, or order the threads (join, event, semaphore)."
                     : "The two paths hold different locks; use one lock for " + what + " on every path.";
      if (m.multi_process()) f.process = m.process_label(ta.process);
      result.findings.push_back(std::move(f));
    }
  }

 private:
  void check(Model& m, std::uint32_t process, Shadow& s, const Access& cur, const VectorClock& vc) {
    auto races_with = [&](const Access& prev) {
      return prev.thread != cur.thread && (prev.mask & cur.mask) != 0 && !vc.covers(Epoch{prev.thread, prev.clock});
    };
    for (const Access& w : s.writes) {
      if (races_with(w)) report(m, process, w, cur);
    }
    if (cur.write) {
      for (const Access& r : s.reads) {
        if (races_with(r)) report(m, process, r, cur);
      }
      // This write supersedes earlier accesses to its bytes only.
      auto supersede = [&](std::vector<Access>& v) {
        for (Access& a : v) a.mask = std::uint8_t(a.mask & ~cur.mask);
        std::erase_if(v, [](const Access& a) { return a.mask == 0; });
      };
      supersede(s.reads);
      supersede(s.writes);
      s.writes.push_back(cur);
    } else {
      // Reads that happen-before this one add nothing any more.
      std::erase_if(s.reads, [&](const Access& r) { return vc.covers(Epoch{r.thread, r.clock}) && (r.mask & ~cur.mask) == 0; });
      s.reads.push_back(cur);
    }
  }

  void report(Model& m, std::uint32_t process, const Access& prev, const Access& cur) {
    std::string var = m.variable_label(process, cur.address);
    RaceKey key{var, process, prev.site, cur.site, prev.write, cur.write};
    RaceRecord& r = races_[key];
    if (r.count == 0) {
      r.first = prev;
      r.second = cur;
    }
    ++r.count;
  }

  std::uint32_t lockset_id(Model& m, std::uint32_t ti, const ThreadState& t) {
    if (ti >= cache_.size()) cache_.resize(ti + 1, {~std::uint64_t(0), 0});
    if (cache_[ti].first == t.held_version) return cache_[ti].second;
    std::vector<std::uint32_t> ids;
    for (const HeldLock& h : t.held) ids.push_back(h.lock);
    std::sort(ids.begin(), ids.end());
    auto [it, fresh] = lockset_ids_.emplace(ids, std::uint32_t(locksets_.size()));
    if (fresh) {
      std::vector<std::string> names;
      for (const HeldLock& h : t.held) names.push_back(m.lock(h.lock).name);
      locksets_.push_back(std::move(names));
    }
    cache_[ti] = {t.held_version, it->second};
    return it->second;
  }
 private:
  FlatMap<ObjectKey, Shadow, ObjectKeyHash> shadow_;
  std::map<RaceKey, RaceRecord> races_;
  std::map<std::vector<std::uint32_t>, std::uint32_t> lockset_ids_;
  std::vector<std::vector<std::string>> locksets_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> cache_;  // per thread: (held_version, lockset id)
};

}  // namespace

std::unique_ptr<Detector> make_race_detector() { return std::make_unique<RaceDetector>(); }

}  // namespace lockgraph::analysis
