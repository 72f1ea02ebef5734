// JSON (docs/report-schema.md), SARIF 2.1.0 and DOT renderers. JSON and SARIF are written in one
// pass with JsonWriter, members in the documented order.
#include <filesystem>
#include <map>
#include <sstream>

#include "lockgraph/analyzer/report.hpp"
#include "json_writer.hpp"

namespace lockgraph::analysis {
namespace {

const char* disposition_name(Disposition d) {
  switch (d) {
    case Disposition::kFails: return "fails_gate";
    case Disposition::kReported: return "reported";
    case Disposition::kSuppressed: return "suppressed";
    case Disposition::kBaselined: return "baselined";
  }
  return "reported";
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

void write_location(JsonWriter& w, const Location& l) {
  w.begin_object().member("file", l.file).member("line", l.line);
  if (!l.function.empty()) w.member("function", l.function);
  w.member("role", l.role);
  if (!l.thread.empty()) w.member("thread", l.thread);
  w.member("locks_held", l.locks_held);
  if (!l.stack.empty()) w.member("stack", l.stack);
  w.end_object();
}

void write_physical(JsonWriter& w, const Location& l) {
  w.key("physicalLocation").begin_object();
  w.key("artifactLocation").begin_object().member("uri", artifact_uri(l.file)).end_object();
  if (l.line > 0) w.key("region").begin_object().member("startLine", l.line).end_object();
  w.end_object();
}

// The document is made in a buffer of about kChunk bytes that goes to the stream whenever it is
// full at a finding's end: the buffer stays in the cache instead of growing through fresh memory.
constexpr std::size_t kChunk = 256 * 1024;

struct ChunkedOutput {
  explicit ChunkedOutput(std::ostream& o) : out(o) { text.reserve(2 * kChunk); }
  void maybe_flush() {
    if (text.size() >= kChunk) flush();
  }
  void flush() {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    text.clear();
  }
  std::ostream& out;
  std::string text;
};

}  // namespace

std::string render_json(const RenderContext& ctx) {
  std::ostringstream o;
  write_json(ctx, o);
  return std::move(o).str();
}

std::string render_sarif(const RenderContext& ctx) {
  std::ostringstream o;
  write_sarif(ctx, o);
  return std::move(o).str();
}

void write_json(const RenderContext& ctx, std::ostream& stream) {
  const AnalysisResult& r = ctx.result;
  ChunkedOutput out(stream);
  JsonWriter w(&out.text);
  w.begin_object().member("version", 1).key("findings").begin_array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    w.begin_object()
        .member("kind", f.kind)
        .member("severity", severity_name(f.severity))
        .member("message", f.message)
        .member("fingerprint", f.fingerprint)
        .member("count", f.count)
        .member("threads", f.threads)
        .member("objects", f.objects);
    if (!f.cycle.empty()) w.member("cycle", f.cycle);
    if (!f.advice.empty()) w.member("advice", f.advice);
    w.member("gate", disposition_name(ctx.gate.disposition[i]));
    if (!f.process.empty()) w.member("process", f.process);
    w.key("locations").begin_array();
    for (const Location& l : f.locations) write_location(w, l);
    w.end_array();
    if (!f.witness.empty()) {
      w.key("witness").begin_object().key("steps").begin_array();
      for (const ScheduleStep& s : f.witness) {
        w.begin_object().member("thread", s.thread).member("operation", s.operation).member("file", s.file).member("line", s.line);
        if (s.blocked) w.member("blocked", true);
        w.end_object();
      }
      w.end_array().member("omitted", f.witness_omitted).end_object();
    }
    w.end_object();
    out.maybe_flush();
  }
  w.end_array();
  w.key("summary").begin_object().member("events", r.events).member("processes", ctx.processes).member("threads", ctx.thread_count);
  w.key("by_kind").begin_object();
  for (const auto& [kind, n] : count_findings(ctx).by_kind) w.member(kind, n);
  w.end_object().member("failing", ctx.gate.failing).member("passed", !ctx.gate.failed());
  w.key("problems").begin_array();
  for (const Problem& p : r.problems) w.value(p.message());
  w.end_array().key("stale_suppressions").begin_array();
  for (const Suppression& s : ctx.gate.stale) w.value(s.type + ":" + s.pattern);
  w.end_array().end_object();
  w.end_object();
  out.flush();
}

void write_sarif(const RenderContext& ctx, std::ostream& stream) {
  const AnalysisResult& r = ctx.result;
  ChunkedOutput out(stream);
  JsonWriter w(&out.text);
  w.begin_object()
      .member("$schema", "https://json.schemastore.org/sarif-2.1.0.json")
      .member("version", "2.1.0")
      .key("runs")
      .begin_array()
      .begin_object();
  w.key("tool").begin_object().key("driver").begin_object();
  w.member("name", "lockgraph")
      .member("version", LOCKGRAPH_VERSION)
      .member("semanticVersion", LOCKGRAPH_VERSION)
      .member("informationUri", "https://lockgraph.invalid/");
  w.key("rules").begin_array();
  std::map<std::string, int, std::less<>> rule_index;
  for (const RuleText& rt : kRules) {
    rule_index.emplace(std::string(rt.kind), int(rule_index.size()));
    const bool gating = default_fail_on().count(std::string(rt.kind)) != 0;
    w.begin_object().member("id", rt.kind).member("name", rt.name);
    w.key("shortDescription").begin_object().member("text", rt.short_text).end_object();
    w.key("fullDescription").begin_object().member("text", rt.full_text).end_object();
    w.key("defaultConfiguration").begin_object().member("level", gating ? "error" : "warning").end_object();
    w.member("helpUri", "https://lockgraph.invalid/docs/findings#" + std::string(rt.kind));
    w.end_object();
  }
  w.end_array().end_object().end_object();  // rules, driver, tool
  w.key("results").begin_array();
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    w.begin_object().member("ruleId", f.kind);
    if (auto it = rule_index.find(f.kind); it != rule_index.end()) w.member("ruleIndex", it->second);
    w.member("level", f.severity == Severity::kError ? "error" : f.severity == Severity::kWarning ? "warning" : "note");
    w.key("message").begin_object().member("text", f.advice.empty() ? f.message : f.message + " Fix: " + f.advice).end_object();
    if (!f.locations.empty()) {
      w.key("locations").begin_array().begin_object();
      write_physical(w, f.locations.front());
      w.end_object().end_array();
    }
    w.key("relatedLocations").begin_array();
    for (std::size_t k = 0; k < f.locations.size(); ++k) {
      const Location& l = f.locations[k];
      w.begin_object().member("id", k);
      write_physical(w, l);
      w.key("message").begin_object().member("text", l.thread.empty() ? l.role : l.thread + ": " + l.role).end_object();
      w.end_object();
    }
    w.end_array();
    w.key("partialFingerprints").begin_object().member("lockgraph/v1", f.fingerprint).end_object();
    w.key("properties").begin_object().member("count", f.count).member("threads", f.threads).member("objects", f.objects).end_object();
    const Disposition d = ctx.gate.disposition[i];
    if (d == Disposition::kSuppressed) {
      w.key("suppressions").begin_array().begin_object();
      w.member("kind", "external").member("justification", "lockgraph --suppress");
      w.end_object().end_array();
    } else if (d == Disposition::kBaselined) {
      w.member("baselineState", "unchanged");
    }
    w.end_object();
    out.maybe_flush();
  }
  w.end_array().member("columnKind", "utf16CodeUnits");
  w.end_object().end_array().end_object();  // the run, runs, the document
  out.flush();
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
