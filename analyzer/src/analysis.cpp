// analyze(): one replay through the Model and every detector, then fingerprints, ordering and
// contention statistics.
#include "lockgraph/analyzer/analysis.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>

#include "detectors/detector.hpp"

namespace lockgraph::analysis {

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::kNote: return "note";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "error";
}

void assign_fingerprint(Finding& f) {
  // FNV-1a over what identifies the problem, not where the lines happen to be today.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(f.kind);
  std::vector<std::string> objs = f.objects;
  std::sort(objs.begin(), objs.end());
  for (const auto& o : objs) mix(o);
  std::vector<std::string> places;
  for (const Location& l : f.locations) {
    // The role's first word (holds / acquires / write / read / waits) tells apart findings at the
    // same places; thread numbers and lines are deliberately left out.
    std::string verb = l.role.substr(0, l.role.find(' '));
    places.push_back(std::filesystem::path(l.file).filename().string() + "|" + l.function + "|" + verb);
  }
  std::sort(places.begin(), places.end());
  for (const auto& p : places) mix(p);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  f.fingerprint = buf;
}

AnalysisResult analyze(TraceSet& set) {
  AnalysisResult result;
  Model model(set);
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(make_lock_order_detector());
  detectors.push_back(make_race_detector());
  detectors.push_back(make_lockset_detector());
  detectors.push_back(make_misuse_detector());
  detectors.push_back(make_actual_deadlock_detector());
  ReplayStats stats = set.replay([&](const Event& e) {
    model.begin(e);
    for (auto& d : detectors) d->before(e, model);
    model.apply(e);
    for (auto& d : detectors) d->after(e, model);
  });
  result.events = stats.events;
  for (auto& d : detectors) d->finish(model, result);
  for (Finding& f : result.findings) assign_fingerprint(f);
  auto rank = [](const Finding& f) {
    int i = 0;
    for (auto k : kAllKinds) {
      if (k == f.kind) return i;
      ++i;
    }
    return i;
  };
  std::stable_sort(result.findings.begin(), result.findings.end(), [&](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return a.cycle.size() < b.cycle.size();
  });

  for (std::uint32_t p = 0; p < set.processes().size(); ++p) result.run_ns = std::max(result.run_ns, model.run_ns(p));
  for (const LockInfo& l : model.locks()) {
    if (l.acquisitions == 0) continue;
    LockStats s;
    s.name = l.name;
    s.acquisitions = l.acquisitions;
    s.contended = l.contended;
    s.wait_total_ns = l.wait_total_ns;
    s.wait_max_ns = l.wait_max_ns;
    s.hold_total_ns = l.hold_total_ns;
    s.hold_max_ns = l.hold_max_ns;
    s.holds_timed = l.holds_timed;
    // Holds are timed for a sample of acquisitions (LOCKGRAPH_TIMING); scale the sample up.
    std::uint64_t run = model.run_ns(l.key.process);
    if (run > 0 && l.holds_timed > 0) {
      double estimate = double(l.hold_total_ns) * double(l.acquisitions) / double(l.holds_timed);
      s.held_share = std::min(1.0, estimate / double(run));
    }
    result.locks.push_back(std::move(s));
  }
  std::sort(result.locks.begin(), result.locks.end(),
            [](const LockStats& a, const LockStats& b) { return a.wait_total_ns > b.wait_total_ns || (a.wait_total_ns == b.wait_total_ns && a.acquisitions > b.acquisitions); });
  for (const ThreadState& t : model.threads()) {
    if (t.tid == 0) continue;
    result.threads.push_back(ThreadStats{t.label, t.blocked_ns});
  }
  result.problems = set.problems();
  return result;
}

}  // namespace lockgraph::analysis
