// The text report: what a tired engineer reads at 2 a.m. — verdict first, then each finding with
// the cycle drawn, every location with thread, file:line, function and locks held, and the fix.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "lockgraph/analyzer/report.hpp"

namespace lockgraph::analysis {
namespace {

struct Style {
  bool on;
  std::string red() const { return on ? "\033[1;31m" : ""; }
  std::string yellow() const { return on ? "\033[1;33m" : ""; }
  std::string cyan() const { return on ? "\033[36m" : ""; }
  std::string bold() const { return on ? "\033[1m" : ""; }
  std::string dim() const { return on ? "\033[2m" : ""; }
  std::string reset() const { return on ? "\033[0m" : ""; }
};

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

FindingCounts count_findings(const RenderContext& ctx) {
  FindingCounts c;
  for (std::size_t i = 0; i < ctx.result.findings.size(); ++i) {
    Disposition d = ctx.gate.disposition[i];
    if (d == Disposition::kSuppressed) {
      ++c.suppressed;
      continue;
    }
    if (d == Disposition::kBaselined) ++c.baselined;
    ++c.shown;
    ++c.by_kind[ctx.result.findings[i].kind];
  }
  return c;
}

std::string location_text(const Location& l) { return l.line ? l.file + ":" + std::to_string(l.line) : l.file; }

std::string render_text(const RenderContext& ctx) {
  std::ostringstream o;
  write_text(ctx, o);
  return std::move(o).str();
}

void write_text(const RenderContext& ctx, std::ostream& o) {
  const AnalysisResult& r = ctx.result;
  Style st{ctx.color};
  // The verdict's head first; it counts the findings without rendering them.
  const FindingCounts counts = count_findings(ctx);
  if (ctx.scope.empty()) {
    o << "lockgraph: analyzed " << r.events << " events from " << plural(ctx.processes, "process", "processes")
      << ", " << plural(ctx.thread_count, "thread", "threads") << "\n";
  } else {
    o << "lockgraph: " << ctx.scope << "\n";
  }
  if (counts.shown == 0) {
    o << st.bold() << "No findings." << st.reset() << "\n";
  } else {
    o << st.bold() << plural(counts.shown, "finding", "findings") << st.reset() << ": ";
    bool first = true;
    for (const auto& [k, n] : counts.by_kind) {
      o << (first ? "" : ", ") << k << " " << n;
      first = false;
    }
    o << "\n";
  }
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    Disposition d = ctx.gate.disposition[i];
    if (d == Disposition::kSuppressed) continue;
    std::string sev = f.severity == Severity::kError ? st.red() + "ERROR" : st.yellow() + "WARNING";
    o << "\n" << sev << st.reset() << " " << st.bold() << f.kind << st.reset();
    if (d == Disposition::kBaselined) o << st.dim() << " (in baseline)" << st.reset();
    if (d == Disposition::kReported) o << st.dim() << " (does not fail the gate)" << st.reset();
    o << "\n  " << f.message << "\n";
    if (!f.process.empty()) o << "  process: " << f.process << "\n";
    if (!f.cycle.empty()) {
      o << "  cycle:   ";
      for (std::size_t k = 0; k < f.cycle.size(); ++k) o << (k ? " -> " : "") << st.bold() << f.cycle[k] << st.reset();
      o << "\n";
    }
    // Locations grouped by thread, in order of first appearance.
    std::size_t role_w = 0;
    for (const Location& l : f.locations) role_w = std::max(role_w, l.role.size());
    std::string current;
    for (const Location& l : f.locations) {
      if (l.thread != current) {
        current = l.thread;
        o << "  " << st.cyan() << current << st.reset() << ":\n";
      }
      o << "    " << l.role << std::string(role_w - l.role.size() + 2, ' ') << st.bold() << location_text(l) << st.reset();
      if (!l.function.empty()) o << "  in " << l.function;
      if (!l.locks_held.empty()) {
        o << st.dim() << "  [holding ";
        for (std::size_t k = 0; k < l.locks_held.size(); ++k) o << (k ? ", " : "") << l.locks_held[k];
        o << "]" << st.reset();
      } else if (f.kind == kDataRace || f.kind == kUnprotectedWrite) {
        o << st.dim() << "  [no locks held]" << st.reset();
      }
      o << "\n";
      for (const std::string& caller : l.stack) {
        o << st.dim() << "    " << std::string(role_w + 2, ' ') << "first reached from " << caller << st.reset() << "\n";
      }
    }
    if (!f.witness.empty()) {
      o << "  witness: a schedule of " << f.witness.size() + f.witness_omitted
        << " lock operations reaches it; `lockgraph explain " << f.fingerprint.substr(0, 8) << " TRACE` prints it\n";
    }
    if (!f.advice.empty()) o << "  fix:     " << f.advice << "\n";
    o << st.dim() << "  id:      " << f.fingerprint << st.reset() << "\n";
  }
  if (counts.suppressed) o << "\n" << plural(counts.suppressed, "finding", "findings") << " suppressed.";
  if (counts.baselined) o << "\n" << plural(counts.baselined, "finding", "findings") << " accepted by the baseline.";
  for (const Suppression& s : ctx.gate.stale) {
    o << "\n" << st.yellow() << "stale suppression" << st.reset() << " (line " << s.line << ") " << s.type << ":"
      << s.pattern << " matched nothing";
  }
  o << "\n"
    << (ctx.gate.failed() ? st.red() + "FAILED" : st.bold() + "PASSED") << st.reset() << ": "
    << plural(ctx.gate.failing, "finding fails", "findings fail") << " the gate.\n";
}

std::string render_stats_text(const AnalysisResult& r) {
  std::ostringstream o;
  auto ms = [](std::uint64_t ns) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", double(ns) / 1e6);
    return std::string(b);
  };
  o << "run time: " << ms(r.run_ns) << " ms (first to last timestamp of the longest process)\n\n";
  o << "locks (sorted by total wait):\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-32s %10s %10s %12s %12s %12s %12s %8s\n", "lock", "acquired", "contended",
                "wait ms", "worst wait", "hold ms*", "worst hold", "held %");
  o << line;
  for (const LockStats& l : r.locks) {
    double scale = l.holds_timed ? double(l.acquisitions) / double(l.holds_timed) : 0;
    std::snprintf(line, sizeof line, "  %-32s %10llu %10llu %12s %12s %12s %12s %7.1f%%\n", l.name.c_str(),
                  static_cast<unsigned long long>(l.acquisitions), static_cast<unsigned long long>(l.contended),
                  ms(l.wait_total_ns).c_str(), ms(l.wait_max_ns).c_str(),
                  ms(std::uint64_t(double(l.hold_total_ns) * scale)).c_str(), ms(l.hold_max_ns).c_str(),
                  100.0 * l.held_share);
    o << line;
  }
  o << "  * hold times are measured on a sample of acquisitions (LOCKGRAPH_TIMING; all when =all) and scaled up.\n";
  o << "\nthreads (time blocked waiting for locks):\n";
  for (const ThreadStats& t : r.threads) {
    std::snprintf(line, sizeof line, "  %-32s %12s ms\n", t.name.c_str(), ms(t.blocked_ns).c_str());
    o << line;
  }
  return o.str();
}

}  // namespace lockgraph::analysis
