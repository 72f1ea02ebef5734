// analyze(): one replay through the Model and every detector, then fingerprints, ordering and
// contention statistics.
#include "lockgraph/analyzer/analysis.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>

#include "detectors/detector.hpp"
#include "event_pipeline.hpp"
#include "fnv1a.hpp"

namespace lockgraph::analysis {

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::kNote: return "note";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "error";
}

std::string draw_cycle(const std::vector<std::string>& cycle) {
  std::string s;
  for (std::size_t i = 0; i < cycle.size(); ++i) s += (i ? " -> " : "") + cycle[i];
  return s;
}

void assign_fingerprint(Finding& f) {
  // FNV-1a over what identifies the problem, not where the lines happen to be today; 0xff ends
  // each string so that ("ab","c") and ("a","bc") differ.
  Fnv1a h;
  auto mix = [&](std::string_view s) {
    h.bytes(s);
    h.byte(0xff);
  };
  mix(f.kind);
  std::vector<std::string_view> objs(f.objects.begin(), f.objects.end());
  std::sort(objs.begin(), objs.end());
  for (std::string_view o : objs) mix(o);
  std::vector<std::string> places;
  places.reserve(f.locations.size());
  for (const Location& l : f.locations) {
    // The file's last component (what std::filesystem::path::filename gives for a POSIX path) and
    // the role's first word (holds / acquires / write / read / waits), which tells apart findings
    // at the same places; thread numbers and lines are deliberately left out.
    const std::string_view file(l.file), role(l.role);
    const std::string_view name = file.substr(file.rfind('/') + 1);  // npos + 1 == 0: no slash
    const std::string_view verb = role.substr(0, role.find(' '));
    std::string& p = places.emplace_back();
    p.reserve(name.size() + l.function.size() + verb.size() + 2);
    p.append(name).append(1, '|').append(l.function).append(1, '|').append(verb);
  }
  std::sort(places.begin(), places.end());
  for (const auto& p : places) mix(p);
  f.fingerprint = h.hex();
}

namespace {

// The Model's spans re-indexed to the threads and locks that appear in them, with display names.
void fill_timeline(const Model& model, Timeline& out) {
  std::vector<std::uint32_t> thread_row(model.threads().size(), UINT32_MAX);
  std::vector<std::uint32_t> lock_row(model.locks().size(), UINT32_MAX);
  for (std::uint32_t i = 0; i < model.threads().size(); ++i) {
    const ThreadState& t = model.threads()[i];
    if (t.tid == 0 || t.first_ns == 0) continue;
    thread_row[i] = std::uint32_t(out.threads.size());
    out.threads.push_back(TimelineThread{t.label, t.first_ns, t.last_ns});
    if (out.begin_ns == 0 || t.first_ns < out.begin_ns) out.begin_ns = t.first_ns;
    out.end_ns = std::max(out.end_ns, t.last_ns);
  }
  for (const TimelineSpan& s : model.spans()) {
    if (thread_row[s.thread] == UINT32_MAX) continue;
    if (lock_row[s.lock] == UINT32_MAX) {
      lock_row[s.lock] = std::uint32_t(out.locks.size());
      out.locks.push_back(model.locks()[s.lock].name);
    }
    out.spans.push_back(TimelineSpan{thread_row[s.thread], lock_row[s.lock], s.begin_ns, s.end_ns, s.wait});
  }
  // The run goes on after the last lock event (a watchdog waits before it reports): so does the picture.
  for (std::uint32_t p = 0; p < model.set().processes().size(); ++p) {
    out.end_ns = std::max(out.end_ns, model.end_ns(p));
  }
  // Holds and waits that never ended (a deadlock, or the trace stopped): drawn to the end of the run.
  auto open_span = [&](std::uint32_t thread, std::uint32_t lock, std::uint64_t since, bool wait) {
    if (lock_row[lock] == UINT32_MAX) {
      lock_row[lock] = std::uint32_t(out.locks.size());
      out.locks.push_back(model.locks()[lock].name);
    }
    out.spans.push_back(TimelineSpan{thread_row[thread], lock_row[lock], since, std::max(out.end_ns, since), wait});
  };
  for (std::uint32_t i = 0; i < model.threads().size(); ++i) {
    const ThreadState& t = model.threads()[i];
    if (thread_row[i] == UINT32_MAX) continue;
    for (const HeldLock& h : t.held) {
      if (h.acquired_time != 0) open_span(i, h.lock, h.acquired_time, false);
    }
    if (t.pending_lock && t.pending_since != 0) open_span(i, *t.pending_lock, t.pending_since, true);
  }
  out.dropped = model.spans_dropped();
}

}  // namespace

void sort_findings(std::vector<Finding>& findings) {
  // Errors first; among them what happened (a deadlock that hung the run) before what could.
  auto rank = [](const Finding& f) {
    if (f.kind == kDeadlockActual) return -1;
    int i = 0;
    for (auto k : kAllKinds) {
      if (k == f.kind) return i;
      ++i;
    }
    return i;
  };
  // The keys once per finding, and the findings moved once: a large report has thousands, and
  // sorting them in place moved each (strings and vectors) a dozen times.
  struct Key {
    Severity severity;
    int rank;
    std::size_t cycle, index;
  };
  std::vector<Key> keys;
  keys.reserve(findings.size());
  for (std::size_t i = 0; i < findings.size(); ++i) {
    keys.push_back(Key{findings[i].severity, rank(findings[i]), findings[i].cycle.size(), i});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.cycle != b.cycle) return a.cycle < b.cycle;
    return a.index < b.index;  // stable
  });
  std::vector<Finding> sorted;
  sorted.reserve(findings.size());
  for (const Key& k : keys) sorted.push_back(std::move(findings[k.index]));
  findings = std::move(sorted);
}

namespace {
std::atomic<bool> g_leave_state_to_exit{false};
}  // namespace

void leave_analysis_state_to_process_exit(bool leave) noexcept { g_leave_state_to_exit = leave; }
bool analysis_state_left_to_process_exit() noexcept { return g_leave_state_to_exit; }

AnalysisResult analyze(TraceSet& set, const ProgressFn& progress, const EventObserver& observer) {
  AnalysisResult result;
  auto model_owner = std::make_unique<Model>(set);
  Model& model = *model_owner;
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(make_lock_order_detector());
  detectors.push_back(make_race_detector());
  detectors.push_back(make_lockset_detector());
  detectors.push_back(make_misuse_detector());
  detectors.push_back(make_actual_deadlock_detector());
  // Per kind of event, the detectors that look at it before and after the model (in the order
  // above).
  std::array<std::vector<Detector*>, 256> before, after;
  for (std::size_t k = 0; k < before.size(); ++k) {
    for (auto& d : detectors) {
      if (d->wants(Kind(k))) (d->hook() == Detector::Hook::kBefore ? before : after)[k].push_back(d.get());
    }
  }
  const std::uint64_t total = progress ? set.record_count() : 0;
  std::uint64_t done = 0;
  auto consume = [&](const Event* events, std::size_t n) {
    for (const Event* e = events; e != events + n; ++e) {
      if (progress && (++done & 0xffff) == 0) progress(done, total);
      model.begin(*e);
      for (Detector* d : before[std::size_t(e->kind)]) d->before(*e, model);
      model.apply(*e);
      for (Detector* d : after[std::size_t(e->kind)]) d->after(*e, model);
      if (observer) observer(*e, model);
    }
  };
  // The replay (decoding, and merging the threads' records in an order the sequence numbers
  // allow) runs on a second thread, ahead of the model and the detectors. It writes only its own
  // state and the set's problem list, which is read once both are done.
  ReplayStats stats = run_pipelined<Event, ReplayStats>(
      [&](const EventBatchSink<Event>& hand_over) {
        constexpr std::size_t kBatch = 16384;  // 1.5 MiB: few hand-offs (each can be a futex wake-up)
        std::vector<Event> batch;
        batch.reserve(kBatch);
        ReplayStats s = set.replay([&](const Event& e) {
          batch.push_back(e);
          if (batch.size() == kBatch) {
            hand_over(batch.data(), batch.size());
            batch.clear();
          }
        });
        if (!batch.empty()) hand_over(batch.data(), batch.size());
        return s;
      },
      consume);
  result.events = stats.events;
  for (auto& d : detectors) d->finish(model, result);
  for (Finding& f : result.findings) assign_fingerprint(f);
  sort_findings(result.findings);

  for (std::uint32_t p = 0; p < set.processes().size(); ++p) result.run_ns = std::max(result.run_ns, model.run_ns(p));
  for (const LockInfo& l : model.locks()) {
    if (l.acquisitions == 0) continue;
    LockStats s;
    s.name = l.name;
    s.created_at = model.location(l.key.process, l.create_site, "created", 0);
    s.created_at.thread.clear();
    s.created_at.locks_held.clear();
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
  fill_timeline(model, result.timeline);
  // The trace's problems first, then what a detector could not cover.
  result.problems.insert(result.problems.begin(), set.problems().begin(), set.problems().end());
  if (g_leave_state_to_exit) {
    (void)model_owner.release();  // see leave_analysis_state_to_process_exit()
    for (auto& d : detectors) (void)d.release();
  }
  return result;
}

}  // namespace lockgraph::analysis
