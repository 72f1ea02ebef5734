// JSON (docs/report-schema.md), SARIF 2.1.0 and DOT renderers.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lockgraph/analyzer/report.hpp"

namespace lockgraph::analysis {
namespace {

using nlohmann::json;

const char* disposition_name(Disposition d) {
  switch (d) {
    case Disposition::kFails: return "fails_gate";
    case Disposition::kReported: return "reported";
    case Disposition::kSuppressed: return "suppressed";
    case Disposition::kBaselined: return "baselined";
  }
  return "reported";
}

json location_json(const Location& l) {
  json j = {{"file", l.file}, {"line", l.line}, {"role", l.role}};
  if (!l.function.empty()) j["function"] = l.function;
  if (!l.thread.empty()) j["thread"] = l.thread;
  j["locks_held"] = l.locks_held;
  if (!l.stack.empty()) j["stack"] = l.stack;
  return j;
}

struct RuleText {
  std::string_view kind;
  const char* name;
  const char* short_text;
  const char* full_text;
};

constexpr RuleText kRules[] = {
    {kDeadlockPotential, "PotentialDeadlock", "Lock-order cycle that concurrent threads can close",
     "Two or more threads acquire the same locks in different orders, at times not ordered by thread start/join, "
     "semaphores or events, and not under a common gate lock: a schedule exists in which they deadlock."},
    {kLockOrderInversion, "LockOrderInversion", "Locks taken in inconsistent orders, not concurrently",
     "A lock-order cycle whose edges were ordered by happens-before (or taken by one thread); it cannot deadlock "
     "as written but breaks lock discipline."},
    {kDeadlockActual, "Deadlock", "Threads blocked on each other for good",
     "The program hung: a wait-for cycle between threads (or every thread blocked) was observed by the watchdog "
     "or at the end of the trace."},
    {kDataRace, "DataRace", "Unsynchronized conflicting accesses",
     "Two accesses to the same bytes from different threads, at least one a write, with no happens-before order."},
    {kUnprotectedWrite, "UnprotectedSharedWrite", "Shared variable written without a consistent lock",
     "Eraser lockset view: the variable is written by several threads and no lock is held on all its accesses."},
    {kLockMisuse, "LockMisuse", "Incorrect use of a lock, semaphore or thread",
     "Unlock of a lock not held, unlock by a non-owner, destroy while held, thread exit while holding, "
     "semaphore released past its maximum, or join of a joined or detached thread."},
    {kDeadlockStatic, "StaticLockOrderCycle", "Lock-order cycle in the source code",
     "The source acquires these locks in both orders (directly or through calls made while a lock is held), found "
     "by `lockgraph scan` without running the program; with `analyze --static`, a cycle the run closes only "
     "together with paths the tests never exercised."},
    {kDeadlockPredicted, "PredictedDeadlock", "Lock-order cycle that a reordering of the run reaches",
     "Sound deadlock prediction (sync-preserving deadlocks, PLDI 2023): a schedule of the same events, with every "
     "lock's critical sections in their recorded order, reaches a state where each thread of the cycle holds one "
     "lock and waits for the next. `lockgraph explain` prints that schedule."},
    {kHierarchyViolation, "LockHierarchyViolation", "Acquisition against the declared lock hierarchy",
     "A thread acquired a lock while holding one that the declared hierarchy (analyze --hierarchy) orders after it."},
};

std::string artifact_uri(const std::string& file) {
  if (!file.empty() && file[0] == '/') return "file://" + file;
  return file;
}

json physical(const Location& l) {
  json p = {{"artifactLocation", {{"uri", artifact_uri(l.file)}}}};
  if (l.line > 0) p["region"] = {{"startLine", l.line}};
  return p;
}

}  // namespace

std::string render_json(const RenderContext& ctx) {
  const AnalysisResult& r = ctx.result;
  json out;
  out["version"] = 1;
  out["findings"] = json::array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    json j = {{"kind", f.kind},
              {"severity", std::string(severity_name(f.severity))},
              {"message", f.message},
              {"fingerprint", f.fingerprint},
              {"count", f.count},
              {"threads", f.threads},
              {"objects", f.objects},
              {"gate", disposition_name(ctx.gate.disposition[i])}};
    if (!f.cycle.empty()) j["cycle"] = f.cycle;
    if (!f.advice.empty()) j["advice"] = f.advice;
    if (!f.process.empty()) j["process"] = f.process;
    j["locations"] = json::array();
    for (const Location& l : f.locations) j["locations"].push_back(location_json(l));
    if (!f.witness.empty()) {
      json steps = json::array();
      for (const ScheduleStep& s : f.witness) {
        json step = {{"thread", s.thread}, {"operation", s.operation}, {"file", s.file}, {"line", s.line}};
        if (s.blocked) step["blocked"] = true;
        steps.push_back(std::move(step));
      }
      j["witness"] = {{"steps", std::move(steps)}, {"omitted", f.witness_omitted}};
    }
    out["findings"].push_back(std::move(j));
  }
  json problems = json::array();
  for (const Problem& p : r.problems) problems.push_back(p.message());
  json stale = json::array();
  for (const Suppression& s : ctx.gate.stale) stale.push_back(s.type + ":" + s.pattern);
  out["summary"] = {{"events", r.events},      {"processes", ctx.processes}, {"threads", ctx.thread_count},
                    {"by_kind", count_findings(ctx).by_kind},      {"failing", ctx.gate.failing}, {"passed", !ctx.gate.failed()},
                    {"problems", problems},    {"stale_suppressions", stale}};
  // Names come from the traced program: bytes that are not UTF-8 become U+FFFD, never an exception.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_sarif(const RenderContext& ctx) {
  const AnalysisResult& r = ctx.result;
  json rules = json::array();
  std::map<std::string, int> rule_index;
  for (const RuleText& rt : kRules) {
    rule_index[std::string(rt.kind)] = int(rules.size());
    bool gating = default_fail_on().count(std::string(rt.kind)) != 0;
    rules.push_back({{"id", std::string(rt.kind)},
                     {"name", rt.name},
                     {"shortDescription", {{"text", rt.short_text}}},
                     {"fullDescription", {{"text", rt.full_text}}},
                     {"defaultConfiguration", {{"level", gating ? "error" : "warning"}}},
                     {"helpUri", "https://lockgraph.invalid/docs/findings#" + std::string(rt.kind)}});
  }
  json results = json::array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    json res;
    res["ruleId"] = f.kind;
    res["ruleIndex"] = rule_index[f.kind];
    res["level"] = f.severity == Severity::kError ? "error" : f.severity == Severity::kWarning ? "warning" : "note";
    std::string text = f.message;
    if (!f.advice.empty()) text += " Fix: " + f.advice;
    res["message"] = {{"text", text}};
    json locs = json::array();
    json related = json::array();
    for (std::size_t k = 0; k < f.locations.size(); ++k) {
      const Location& l = f.locations[k];
      if (locs.empty()) locs.push_back({{"physicalLocation", physical(l)}});
      std::string msg = l.thread.empty() ? l.role : l.thread + ": " + l.role;
      related.push_back({{"id", int(k)}, {"physicalLocation", physical(l)}, {"message", {{"text", msg}}}});
    }
    if (!locs.empty()) res["locations"] = locs;
    res["relatedLocations"] = related;
    res["partialFingerprints"] = {{"lockgraph/v1", f.fingerprint}};
    res["properties"] = {{"count", f.count}, {"threads", f.threads}, {"objects", f.objects}};
    Disposition d = ctx.gate.disposition[i];
    if (d == Disposition::kSuppressed) {
      res["suppressions"] = json::array({{{"kind", "external"}, {"justification", "lockgraph --suppress"}}});
    } else if (d == Disposition::kBaselined) {
      res["baselineState"] = "unchanged";
    }
    results.push_back(std::move(res));
  }
  json run = {{"tool",
               {{"driver",
                 {{"name", "lockgraph"},
                  {"version", LOCKGRAPH_VERSION},
                  {"semanticVersion", LOCKGRAPH_VERSION},
                  {"informationUri", "https://lockgraph.invalid/"},
                  {"rules", rules}}}}},
              {"results", results},
              {"columnKind", "utf16CodeUnits"}};
  json out = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", json::array({run})}};
  // Names come from the traced program: bytes that are not UTF-8 become U+FFFD, never an exception.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_dot(const AnalysisResult& r, bool cycles_only) {
  std::ostringstream o;
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '\n') {
        q += "\\n";
        continue;
      }
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\"";
  };
  o << "digraph lockgraph {\n  rankdir=LR;\n  ranksep=1.4;\n  nodesep=0.5;\n  node [shape=box, style=rounded, fontname=\"monospace\"];\n"
    << "  edge [fontname=\"monospace\", fontsize=9];\n";
  std::map<std::string, bool> nodes;
  for (const LockOrderEdge& e : r.graph) {
    if (cycles_only && !e.in_cycle) continue;
    nodes[e.from] = nodes[e.from] || e.in_cycle;
    nodes[e.to] = nodes[e.to] || e.in_cycle;
  }
  for (const auto& [n, hot] : nodes) {
    o << "  " << quote(n) << (hot ? " [color=red, penwidth=2]" : "") << ";\n";
  }
  for (const LockOrderEdge& e : r.graph) {
    if (cycles_only && !e.in_cycle) continue;
    std::string label;
    for (std::size_t i = 0; i < e.labels.size() && i < 4; ++i) label += (i ? "\n" : "") + e.labels[i];
    if (e.labels.size() > 4) label += "\n(+" + std::to_string(e.labels.size() - 4) + " more)";
    if (e.source == SourceCheck::kConfirmed) label += "\n[confirmed by the source]";
    if (e.source == SourceCheck::kNotInSource) label += "\n[not found in the source]";
    o << "  " << quote(e.from) << " -> " << quote(e.to) << " [label=" << quote(label);
    if (e.source == SourceCheck::kNotInSource) o << ", style=dashed";
    if (e.in_cycle) o << ", color=red, fontcolor=red, penwidth=2";
    o << "];\n";
  }
  o << "}\n";
  return o.str();
}

}  // namespace lockgraph::analysis
