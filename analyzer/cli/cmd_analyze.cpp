// `lockgraph analyze` and `lockgraph stats`: the analysis, the report formats and the CI gate.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "progress.hpp"
#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/gate.hpp"
#include "lockgraph/analyzer/hierarchy.hpp"
#include "lockgraph/analyzer/deadlock_prediction.hpp"
#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/std_convert.hpp"
#include "lockgraph/analyzer/report.hpp"
#include "lockgraph/analyzer/saved_graph.hpp"
#include "lockgraph/analyzer/static_graph.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

int write_output_with(const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (path.empty() || path == "-") {
    write(std::cout);
    std::cout.flush();
    return std::cout ? kExitOk : fail("cannot write to stdout");
  }
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  if (!out) return fail("cannot write " + path);
  write(out);
  out.close();
  return out ? kExitOk : fail("cannot write " + path);
}

int write_output(const std::string& text, const std::string& path) {
  return write_output_with(path, [&](std::ostream& out) { out << text; });
}

namespace {

bool color_wanted(const std::string& output) {
  if (std::getenv("NO_COLOR") != nullptr) return false;
  if (!output.empty() && output != "-") return false;
  return isatty(STDOUT_FILENO) != 0;
}

// Text, JSON and SARIF go to the output as they are made (report.hpp says why); DOT and HTML
// whole.
int write_report(const std::string& format, const RenderContext& ctx, const std::string& path) {
  return write_output_with(path, [&](std::ostream& out) {
    if (format == "json") return write_json(ctx, out);
    if (format == "sarif") return write_sarif(ctx, out);
    if (format == "dot") return void(out << render_dot(ctx.result));
    if (format == "html") return void(out << render_html(ctx));
    write_text(ctx, out);
  });
}

}  // namespace

bool load_gate(const AnalyzeOptions& o, GateConfig* gate, std::string* error) {
  if (o.fail_on.empty()) {
    gate->fail_on = default_fail_on();
  } else if (!parse_fail_on(o.fail_on, &gate->fail_on, error)) {
    return false;
  }
  if (!o.suppress.empty() && !load_suppressions(o.suppress, &gate->suppressions, error)) return false;
  return o.baseline.empty() || load_baseline(o.baseline, &gate->baseline, error);
}

int report_and_gate(const AnalyzeOptions& o, GateConfig& gate, const AnalysisResult& result, std::size_t processes,
                    const std::string& scope) {
  std::string error;
  if (!o.write_baseline.empty() && !write_baseline(o.write_baseline, result.findings, &error)) return fail(error);
  GateOutcome outcome = apply_gate(result.findings, gate);
  RenderContext ctx{result, outcome, processes, result.threads.size(), color_wanted(o.output), scope};
  if (int rc = write_report(o.format, ctx, o.output); rc != kExitOk) return rc;
  ctx.color = false;
  if (!o.sarif.empty()) {
    if (int rc = write_report("sarif", ctx, o.sarif); rc != kExitOk) return rc;
  }
  if (!o.html.empty()) {
    if (int rc = write_report("html", ctx, o.html); rc != kExitOk) return rc;
  }
  for (const Suppression& s : outcome.stale) {
    warn(o.suppress + ":" + std::to_string(s.line) + ": stale suppression " + s.type + ":" + s.pattern + " matched nothing");
  }
  return outcome.failed() ? kExitFindings : kExitOk;
}

namespace {

// `analyze --input-format std FILE`: RAPID's STD text format, through the predictive analyses.
int compute_std_analysis(const AnalyzeOptions& o, RaceAnalysis analysis, AnalysisResult* result, std::string* scope) {
  if (o.traces.size() != 1) return fail("--input-format std reads exactly one file (got " + std::to_string(o.traces.size()) + ")");
  if (!o.static_scan.empty() || !o.hierarchy.empty() || !o.save_graph.empty()) {
    return fail("--static, --hierarchy and --save-graph need a lockgraph trace, not STD input");
  }
  const std::string& path = o.traces[0];
  StdTrace names;
  Problem problem;
  RacePredictor predictor(analysis);
  DeadlockPredictor deadlocks;
  std::uint64_t events = 0;
  // wcp and syncp take longer per event than reading does, so the deadlock prediction's pass over
  // the events runs on the reader's thread (which waits for room otherwise); hb, shb and lockset
  // keep up with the reader, which then sets the pace, so it stays with them.
  const bool deadlocks_on_reader = analysis == RaceAnalysis::kWcp || analysis == RaceAnalysis::kSyncp;
  auto predict_deadlocks = [&](const StdEvent* batch, std::size_t n) { deadlocks.on_events(batch, n); };
  bool complete = StdTrace::parse_file_batches(
      path, &names, &problem,
      [&](const StdEvent* batch, std::size_t n) {
        events += n;
        predictor.on_events(batch, n);
        if (!deadlocks_on_reader) deadlocks.on_events(batch, n);
      },
      StdTrace::default_workers(), deadlocks_on_reader ? StdTrace::BatchSink(predict_deadlocks) : StdTrace::BatchSink());
  if (!complete && events == 0) return fail(problem.message());
  if (!complete) warn(problem.message() + " (the " + std::to_string(events) + " events before it are analyzed)");
  *result = predictor.finish(names, path);
  for (const Problem& p : result->problems) warn(p.reason);
  // A second look at the events, only if there is a lock-order cycle: the same file, the same
  // events (up to the same damage), the same name ids.
  AnalysisResult predicted = deadlocks.finish([&](const StdTrace::EventSink& sink) {
    StdTrace again;
    Problem ignored;
    StdTrace::parse_file_stream(path, &again, &ignored, sink);
  }, names, path);
  for (const Problem& p : predicted.problems) warn(p.reason);
  for (Finding& f : predicted.findings) result->findings.push_back(std::move(f));
  sort_findings(result->findings);
  result->events = events;
  if (!complete) result->problems.push_back(problem);
  *scope = "analyzed " + std::to_string(events) + " STD events of " + std::to_string(names.threads.size()) +
           " threads from " + path + " with " + std::string(race_analysis_name(analysis)) +
           " race prediction and sync-preserving deadlock prediction";
  return kExitOk;
}

// STD's "T<tid>" (one process) as the run's label: the finding's own "thread <tid> (name)" when it
// has it, else "thread <tid>". Other names (several processes: "P<n>T<tid>") stay.
std::string run_thread_label(const std::string& std_name, const std::vector<std::string>& labels) {
  const bool numbered = std_name.size() > 1 && std_name[0] == 'T' &&
                        std::all_of(std_name.begin() + 1, std_name.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numbered) return std_name;
  const std::string base = "thread " + std_name.substr(1);
  for (const std::string& l : labels) {
    if (l == base || l.rfind(base + " ", 0) == 0) return l;
  }
  return base;
}

// Lockgraph deadlock_potential findings that sound prediction confirms become deadlock_predicted,
// with the witness; the run's own locations (stacks, functions) are kept.
void upgrade_predicted(AnalysisResult& result, const AnalysisResult& predicted) {
  auto lock_set = [](const Finding& f) {
    std::vector<std::string> locks = f.objects;
    std::sort(locks.begin(), locks.end());
    return locks;
  };
  for (const Finding& p : predicted.findings) {
    if (p.kind != kDeadlockPredicted) continue;
    for (Finding& f : result.findings) {
      if (f.kind != kDeadlockPotential || lock_set(f) != lock_set(p)) continue;
      f.kind = std::string(kDeadlockPredicted);
      f.message = "deadlock predicted: lock order cycle " + draw_cycle(f.cycle) + " between " +
                  std::to_string(f.threads.size()) + " threads that can run concurrently — a reordering of this run "
                  "reaches it (`lockgraph explain` prints the schedule)";
      f.witness = p.witness;
      f.witness_omitted = p.witness_omitted;
      // The conversion named threads T<tid>; the report says "thread <tid> (name)".
      for (ScheduleStep& step : f.witness) {
        step.thread = run_thread_label(step.thread, f.threads);
        for (const char* op : {"fork(", "join("}) {
          if (step.operation.rfind(op, 0) != 0) continue;
          std::string child = step.operation.substr(5, step.operation.size() - 6);
          step.operation = std::string(op) + run_thread_label(child, f.threads) + ")";
        }
      }
      assign_fingerprint(f);
    }
  }
}

}  // namespace

int compute_analysis(const AnalyzeOptions& o, AnalysisResult* out, std::size_t* processes, std::string* scope) {
  const bool std_input = o.input_format == "std";
  RaceAnalysis races = std_input ? RaceAnalysis::kWcp : RaceAnalysis::kHb;
  if (!o.races.empty() && !parse_race_analysis(o.races, &races)) {
    return fail("--races " + o.races + " is not one of hb, shb, wcp, syncp, lockset");
  }
  *processes = 1;
  scope->clear();
  if (std_input) return compute_std_analysis(o, races, out, scope);
  std::string error;
  StaticGraph scan;
  if (!o.static_scan.empty() && !StaticGraph::load(o.static_scan, &scan, &error)) return fail(error);
  LockHierarchy hierarchy;
  if (!o.hierarchy.empty() && !LockHierarchy::load(o.hierarchy, &hierarchy, &error)) return fail(error);
  Problem fatal;
  auto set = TraceSet::open(o.traces, &fatal, SiteNames::kShownInReports);
  if (!set) return fail(fatal.message());
  // shb, wcp, syncp and deadlock prediction: the trace in STD's model, converted during the same
  // replay; predicted races replace FastTrack's. lockset: the analyzer's own lockset view
  // (unprotected_write, always on) is the report; FastTrack's races are left out.
  const bool predict = races != RaceAnalysis::kHb && races != RaceAnalysis::kLockset;
  StdTrace names;  // with --predict-deadlocks, also the converted events (the second pass replays them)
  RacePredictor predictor(races);
  DeadlockPredictor deadlocks;
  StdConverter converter(*set, &names, [&](const StdEvent& e) {
    if (predict) predictor.on_event(e);
    if (o.predict_deadlocks) deadlocks.on_event(e), names.events.push_back(e);
  });
  EventObserver observer;
  if (predict || o.predict_deadlocks) observer = [&](const Event& e, Model& model) { converter.on_event(e, model); };
  AnalysisResult& result = *out;
  {
    ProgressBar bar;
    result = analyze(*set, bar.callback(), observer);
  }
  for (const Problem& p : result.problems) warn(p.message());
  if (races == RaceAnalysis::kLockset) std::erase_if(result.findings, [](const Finding& f) { return f.kind == kDataRace; });
  if (predict) {
    AnalysisResult predicted = predictor.finish(names, "");
    std::erase_if(result.findings, [](const Finding& f) { return f.kind == kDataRace; });
    for (Finding& f : predicted.findings) result.findings.push_back(std::move(f));
    for (Problem& p : predicted.problems) {
      warn(p.reason);
      result.problems.push_back(std::move(p));
    }
  }
  if (o.predict_deadlocks) {
    AnalysisResult predicted = deadlocks.finish([&](const StdTrace::EventSink& sink) {
      for (const StdEvent& e : names.events) sink(e);
    }, names, "");
    for (const Problem& p : predicted.problems) warn(p.reason);
    upgrade_predicted(result, predicted);
  }
  if ((predict || o.predict_deadlocks) && converter.stats().sync_dropped > 0) {
    warn("prediction models locks, fork and join only: " + std::to_string(converter.stats().sync_dropped) +
         " semaphore, event, condition, barrier, pool and atomic operations are not used, so races only they "
         "order may be reported");
  }
  if (!o.static_scan.empty()) apply_static(scan, result);
  if (!o.hierarchy.empty()) {
    for (Finding& f : hierarchy.check(result)) result.findings.push_back(std::move(f));
  }
  sort_findings(result.findings);
  if (!o.save_graph.empty() && !SavedGraph::from_analysis(result, *set).save(o.save_graph, &error)) return fail(error);
  *processes = set->processes().size();
  return kExitOk;
}

int run_analysis(const AnalyzeOptions& o) {
  // Bad gate files are reported before a long analysis, not after it.
  GateConfig gate;
  std::string error;
  if (!load_gate(o, &gate, &error)) return fail(error);
  // Never freed: the process ends after the report (main.cpp), and freeing the findings of a large
  // report cost milliseconds (see leave_analysis_state_to_process_exit()).
  AnalysisResult& result = *new AnalysisResult;
  std::size_t processes = 1;
  std::string scope;
  if (int code = compute_analysis(o, &result, &processes, &scope); code != kExitOk) return code;
  return report_and_gate(o, gate, result, processes, scope);
}

void add_analyze_options(CLI::App* cmd, AnalyzeOptions& o) {
  cmd->add_option("--format,-f", o.format,
                  "Report format: text (default), json, sarif (2.1.0, for code scanning), dot (lock-order "
                  "graph), html (one self-contained page)")
      ->check(CLI::IsMember({"text", "json", "sarif", "dot", "html"}));
  cmd->add_option("--output,-o", o.output, "Write the report to FILE instead of stdout");
  cmd->add_option("--sarif", o.sarif, "Also write a SARIF report to FILE (e.g. text on stdout for the log, SARIF for upload)");
  cmd->add_option("--html", o.html, "Also write the HTML report to FILE");
  cmd->add_option("--fail-on", o.fail_on,
                  "Comma-separated finding kinds that fail the gate, or all / none "
                  "(default: every kind except lock_order_inversion and unprotected_write)");
  cmd->add_option("--suppress", o.suppress, "Suppression file: lines TYPE:PATTERN (see docs/ci.md)");
  cmd->add_option("--baseline", o.baseline, "Accepted findings (from --write-baseline): only new ones fail");
  cmd->add_option("--write-baseline", o.write_baseline, "Write every current finding's fingerprint to FILE");
}

void add_save_graph_option(CLI::App* cmd, AnalyzeOptions& o) {
  cmd->add_option("--save-graph", o.save_graph,
                  "Save the lock-order graph to FILE (small JSON) for `lockgraph merge` across runs");
}

void add_trace_check_options(CLI::App* cmd, AnalyzeOptions& o) {
  cmd->add_option("--static", o.static_scan,
                  "A saved source scan (lockgraph scan --save FILE): marks each run edge confirmed by the source or "
                  "not, and reports cycles that source-only paths close with the run's edges (deadlock_static)");
  cmd->add_option("--hierarchy", o.hierarchy,
                  "A lock hierarchy file (lines BEFORE -> AFTER, made by lockgraph hierarchy): every acquisition "
                  "against it is a hierarchy_violation");
}

Runner add_analyze(CLI::App& app) {
  auto o = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand("analyze", "Report deadlocks, data races and lock misuse found in a trace.");
  cmd->footer(
      "TRACE: a trace directory (all its process files are analyzed together), trace files, or one\n"
      "text-form trace (as printed by `lockgraph dump`).\n\n"
      "Finding kinds: deadlock_potential, lock_order_inversion, deadlock_actual, data_race,\n"
      "unprotected_write, lock_misuse; deadlock_static with --static, hierarchy_violation with --hierarchy.\n\n"
      "Exit codes: 0 nothing fails the gate, 1 findings fail the gate, 2 usage or input error.\n"
      "Damaged input is reported on stderr (file, byte offset, reason); the readable rest is analyzed.");
  cmd->add_option("trace", o->traces, "Trace directory or files")->required();
  add_analyze_options(cmd, *o);
  add_save_graph_option(cmd, *o);
  add_trace_check_options(cmd, *o);
  cmd->add_option("--input-format", o->input_format,
                  "lockgraph (default: trace directories and files) or std (one RAPID STD text trace: "
                  "THREAD|OP|LOCATION lines)")
      ->check(CLI::IsMember({"lockgraph", "std"}));
  cmd->add_option("--races", o->races,
                  "Race analysis: hb (happens-before), shb (schedulable HB, OOPSLA 2018), wcp (weak "
                  "causally-precedes, PLDI 2017: predicts races in reorderings of the trace, sound for the first), "
                  "syncp (sync-preserving races, POPL 2021: every report real; memory follows how far apart the threads run, see docs/prediction.md) or "
                  "lockset (Eraser, SOSP 1997: unprotected_write warnings where no lock guards every access). "
                  "Default: hb for lockgraph traces (with every synchronization kind), wcp for STD");
  cmd->add_flag("--predict-deadlocks", o->predict_deadlocks,
                "Lockgraph traces: check each potential deadlock for a reordering of the run that reaches it "
                "(sync-preserving deadlock prediction, PLDI 2023); confirmed ones become deadlock_predicted with a "
                "witness schedule (`lockgraph explain`). Keeps the lock and access events in memory. Always on "
                "for STD input");
  return [o] { return run_analysis(*o); };
}

Runner add_stats(CLI::App& app) {
  auto traces = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("stats", "Contention per lock (waits, holds, share of run time held) and per thread.");
  cmd->footer("Exit codes: 0 printed, 2 usage or input error.");
  cmd->add_option("trace", *traces, "Trace directory or files")->required();
  return [traces] {
    Problem fatal;
    auto set = TraceSet::open(*traces, &fatal, SiteNames::kShownInReports);
    if (!set) return fail(fatal.message());
    AnalysisResult result = analyze(*set);
    for (const Problem& p : result.problems) warn(p.message());
    std::string text = render_stats_text(result);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  };
}

}  // namespace lockgraph::cli
