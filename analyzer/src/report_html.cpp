// The HTML report: one self-contained page (inline CSS, SVG and a few lines of script; nothing is
// fetched) with the verdict, each finding with the source lines around its sites, the lock-order
// graph drawn by Graphviz with cycles in red, the per-thread timeline and the contention table.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "html_parts.hpp"
#include "lockgraph/analyzer/report.hpp"

namespace lockgraph::analysis {
namespace {

constexpr std::size_t kMaxDrawnEdges = 400;       // bigger graphs: only the cycles are drawn
constexpr std::uintmax_t kMaxSourceBytes = 8 << 20;
constexpr unsigned kContextLines = 3;

const char* kStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:18px 28px;color:#fff}
header.failed{background:#b3261e} header.passed{background:#1b6e3a}
header h1{margin:0 0 4px;font-size:22px} header p{margin:2px 0}
main{padding:8px 28px 40px;max-width:1240px}
h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.chips span{display:inline-block;background:#eee;border-radius:10px;padding:1px 9px;margin:2px 4px 2px 0;font-size:12px}
.finding{background:#fff;border:1px solid #ddd;border-left:6px solid #b3261e;border-radius:4px;margin:14px 0;padding:0 14px}
.finding.warning{border-left-color:#c77700} .finding.muted{opacity:.6}
.finding summary{cursor:pointer;padding:10px 0;font-weight:600}
.kind{font-family:monospace;background:#f1f1f1;padding:1px 6px;border-radius:3px;margin-right:6px}
.cycle{font-family:monospace;font-size:15px;margin:4px 0 10px} .cycle b{color:#b3261e}
.loc{margin:10px 0 14px} .loc .role{font-weight:600} .loc .thread{color:#0b57a4}
.held{color:#666;font-size:12px} .stack{color:#666;font-size:12px;margin:2px 0 0 16px}
pre.src{background:#f6f8fa;border:1px solid #e4e4e4;padding:6px 0;overflow-x:auto;margin:6px 0;font-size:12.5px}
pre.src span{display:block;padding:0 10px} pre.src span.hit{background:#ffe3e0;font-weight:600}
pre.src i{color:#999;font-style:normal;display:inline-block;width:4.5em}
.advice{background:#eef6ee;border-radius:4px;padding:6px 10px;margin:8px 0 12px}
.id{color:#888;font-size:12px;margin-bottom:10px}
table{border-collapse:collapse;background:#fff} td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left;font-family:monospace}
.graph svg,.timeline{max-width:100%;height:auto;background:#fff;border:1px solid #ddd}
.filters button{margin:0 6px 6px 0;border:1px solid #aaa;background:#fff;border-radius:12px;padding:2px 10px;cursor:pointer}
.filters button.off{opacity:.45}
.note{color:#666;font-size:12.5px}
)css";

// Toggles findings by kind and expands/collapses them; no network, no console output.
const char* kScript = R"js(
(function () {
  var buttons = document.querySelectorAll('.filters button[data-kind]');
  buttons.forEach(function (b) {
    b.addEventListener('click', function () {
      b.classList.toggle('off');
      var hide = b.classList.contains('off');
      document.querySelectorAll('.finding[data-kind="' + b.dataset.kind + '"]').forEach(function (f) {
        f.hidden = hide;
      });
    });
  });
  var all = document.getElementById('toggle-all');
  if (all) all.addEventListener('click', function () {
    var open = all.dataset.open !== 'yes';
    document.querySelectorAll('details.finding').forEach(function (d) { d.open = open; });
    all.dataset.open = open ? 'yes' : 'no';
    all.textContent = open ? 'collapse all' : 'expand all';
  });
  document.documentElement.dataset.ready = 'yes';
})();
)js";

class SourceCache {
 public:
  // Lines [line - context, line + context] of `file`, or empty when it cannot be read.
  std::string snippet(const std::string& file, unsigned line) {
    if (file.empty() || line == 0) return "";
    const std::vector<std::string>& lines = load(file);
    if (line > lines.size()) return "";
    unsigned first = line > kContextLines ? line - kContextLines : 1;
    unsigned last = std::min<unsigned>(unsigned(lines.size()), line + kContextLines);
    std::ostringstream o;
    o << "<pre class=\"src\">";
    for (unsigned n = first; n <= last; ++n) {
      o << "<span" << (n == line ? " class=\"hit\"" : "") << "><i>" << n << "</i>" << html_escape(lines[n - 1]) << "</span>";
    }
    o << "</pre>";
    return o.str();
  }

 private:
  const std::vector<std::string>& load(const std::string& file) {
    auto [it, fresh] = files_.try_emplace(file);
    if (!fresh) return it->second;
    struct stat st {};
    if (stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || std::uintmax_t(st.st_size) > kMaxSourceBytes) return it->second;
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) it->second.push_back(l);
    return it->second;
  }
  std::map<std::string, std::vector<std::string>> files_;
};

void render_finding(std::ostream& o, const Finding& f, Disposition d, SourceCache& sources) {
  bool muted = d == Disposition::kBaselined || d == Disposition::kReported;
  o << "<details class=\"finding " << severity_name(f.severity) << (muted ? " muted" : "") << "\" data-kind=\""
    << html_escape(f.kind) << "\" open>\n<summary><span class=\"kind\">" << html_escape(f.kind) << "</span>"
    << html_escape(f.message);
  if (f.count > 1) o << " <span class=\"note\">(" << f.count << " times)</span>";
  if (d == Disposition::kBaselined) o << " <span class=\"note\">(in baseline)</span>";
  if (d == Disposition::kReported) o << " <span class=\"note\">(does not fail the gate)</span>";
  o << "</summary>\n";
  if (!f.process.empty()) o << "<div>process: " << html_escape(f.process) << "</div>";
  if (!f.cycle.empty()) {
    o << "<div class=\"cycle\">cycle: ";
    for (std::size_t i = 0; i < f.cycle.size(); ++i) o << (i ? " &rarr; " : "") << "<b>" << html_escape(f.cycle[i]) << "</b>";
    o << "</div>\n";
  }
  for (const Location& l : f.locations) {
    o << "<div class=\"loc\"><span class=\"thread\">" << html_escape(l.thread) << "</span> <span class=\"role\">"
      << html_escape(l.role) << "</span> at <code>" << html_escape(location_text(l)) << "</code>";
    if (!l.function.empty()) o << " in <code>" << html_escape(l.function) << "</code>";
    if (!l.locks_held.empty()) {
      o << " <span class=\"held\">[holding ";
      for (std::size_t i = 0; i < l.locks_held.size(); ++i) o << (i ? ", " : "") << html_escape(l.locks_held[i]);
      o << "]</span>";
    } else if (f.kind == kDataRace || f.kind == kUnprotectedWrite) {
      o << " <span class=\"held\">[no locks held]</span>";
    }
    for (const std::string& caller : l.stack) o << "<div class=\"stack\">first reached from " << html_escape(caller) << "</div>";
    o << sources.snippet(l.file, l.line) << "</div>\n";
  }
  if (!f.advice.empty()) o << "<div class=\"advice\"><b>Fix:</b> " << html_escape(f.advice) << "</div>\n";
  o << "<div class=\"id\">id " << html_escape(f.fingerprint) << "</div>\n</details>\n";
}

void render_graph(std::ostream& o, const AnalysisResult& r) {
  o << "<h2 id=\"graph\">Lock-order graph</h2>\n";
  if (r.graph.empty()) {
    o << "<p class=\"note\">No thread ever held one lock while acquiring another: the graph is empty.</p>\n";
    return;
  }
  bool cycles_only = r.graph.size() > kMaxDrawnEdges;
  std::string svg, error;
  if (!dot_to_svg(render_dot(r, cycles_only), &svg, &error)) {
    o << "<p class=\"note\">" << html_escape(error) << "</p>\n";
    return;
  }
  // Inline SVG: drop the XML prolog and DOCTYPE Graphviz puts before <svg>.
  std::size_t start = svg.find("<svg");
  o << "<p class=\"note\">An edge A &rarr; B: a thread acquired B while holding A. Red: part of a reported cycle."
    << (cycles_only ? " The graph has " + std::to_string(r.graph.size()) + " edges; only the cycles are drawn." : "")
    << "</p>\n<div class=\"graph\">" << (start == std::string::npos ? "" : svg.substr(start)) << "</div>\n";
}

void render_timeline(std::ostream& o, const Timeline& t) {
  o << "<h2 id=\"timeline\">Timeline</h2>\n";
  std::string svg = render_timeline_svg(t);
  if (svg.empty()) {
    o << "<p class=\"note\">No timed lock holds or waits were recorded. Waits are timed when a lock is contended; "
         "holds for 1 in 64 acquisitions unless the program runs with LOCKGRAPH_TIMING=all.</p>\n";
    return;
  }
  o << "<p class=\"note\">One row per thread: coloured bars are timed lock holds, red hatched bars waits for a lock. "
       "Hover a bar for details. Holds are sampled (1 in 64) unless the program ran with LOCKGRAPH_TIMING=all."
    << (t.dropped ? " " + std::to_string(t.dropped) + " later spans are not drawn." : "") << "</p>\n"
    << svg;
}

void render_contention(std::ostream& o, const AnalysisResult& r) {
  o << "<h2 id=\"contention\">Contention</h2>\n";
  if (r.locks.empty()) {
    o << "<p class=\"note\">No lock was acquired.</p>\n";
    return;
  }
  o << "<table class=\"contention\"><tr><th>lock</th><th>acquired</th><th>contended</th><th>total wait</th>"
       "<th>worst wait</th><th>total hold*</th><th>worst hold</th><th>held</th></tr>\n";
  for (const LockStats& l : r.locks) {
    double scale = l.holds_timed ? double(l.acquisitions) / double(l.holds_timed) : 0;
    char share[16];
    std::snprintf(share, sizeof share, "%.1f%%", 100.0 * l.held_share);
    o << "<tr><td>" << html_escape(l.name) << "</td><td>" << l.acquisitions << "</td><td>" << l.contended << "</td><td>"
      << duration_text(l.wait_total_ns) << "</td><td>" << duration_text(l.wait_max_ns) << "</td><td>"
      << duration_text(std::uint64_t(double(l.hold_total_ns) * scale)) << "</td><td>" << duration_text(l.hold_max_ns)
      << "</td><td>" << share << "</td></tr>\n";
  }
  o << "</table>\n<p class=\"note\">* hold times are measured on a sample of acquisitions and scaled up.</p>\n";
  o << "<table class=\"threads\"><tr><th>thread</th><th>blocked on locks</th></tr>\n";
  for (const ThreadStats& t : r.threads) {
    o << "<tr><td>" << html_escape(t.name) << "</td><td>" << duration_text(t.blocked_ns) << "</td></tr>\n";
  }
  o << "</table>\n";
}

}  // namespace

std::string render_html(const RenderContext& ctx) {
  const AnalysisResult& r = ctx.result;
  const FindingCounts counts = count_findings(ctx);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>lockgraph report: "
    << (ctx.gate.failed() ? "FAILED" : "PASSED") << "</title><style>" << kStyle << "</style></head><body>\n";
  o << "<header class=\"" << (ctx.gate.failed() ? "failed" : "passed") << "\"><h1>lockgraph: "
    << (ctx.gate.failed() ? "FAILED" : "PASSED") << "</h1><p>" << ctx.gate.failing
    << (ctx.gate.failing == 1 ? " finding fails" : " findings fail") << " the gate &middot; " << counts.shown
    << (counts.shown == 1 ? " finding" : " findings") << " shown"
    << (counts.suppressed ? ", " + std::to_string(counts.suppressed) + " suppressed" : "")
    << "</p><p>";
  if (ctx.scope.empty()) {
    o << r.events << " events from " << ctx.processes << (ctx.processes == 1 ? " process, " : " processes, ")
      << ctx.thread_count << (ctx.thread_count == 1 ? " thread" : " threads") << ", run time " << duration_text(r.run_ns);
  } else {
    o << html_escape(ctx.scope);
  }
  o << "</p></header>\n<main>\n";
  if (!r.problems.empty()) {
    o << "<h2 id=\"problems\">Trace problems</h2><ul>\n";
    for (const Problem& p : r.problems) o << "<li>" << html_escape(p.message()) << "</li>\n";
    o << "</ul><p class=\"note\">The analysis covers everything readable before each problem.</p>\n";
  }
  o << "<h2 id=\"findings\">Findings</h2>\n";
  if (counts.shown == 0) {
    o << "<p>No findings.</p>\n";
  } else {
    o << "<div class=\"filters\">";
    for (const auto& [kind, n] : counts.by_kind) {
      o << "<button type=\"button\" data-kind=\"" << html_escape(kind) << "\">" << html_escape(kind) << " " << n << "</button>";
    }
    o << "<button type=\"button\" id=\"toggle-all\" data-open=\"yes\">collapse all</button></div>\n";
    SourceCache sources;
    for (std::size_t i = 0; i < r.findings.size(); ++i) {
      if (ctx.gate.disposition[i] == Disposition::kSuppressed) continue;
      render_finding(o, r.findings[i], ctx.gate.disposition[i], sources);
    }
  }
  render_graph(o, r);
  render_timeline(o, r.timeline);
  render_contention(o, r);
  o << "<p class=\"note\">lockgraph " LOCKGRAPH_VERSION " &middot; finding kinds and fields: docs/report-schema.md</p>\n</main>\n<script>"
    << kScript << "</script>\n</body></html>\n";
  return o.str();
}

}  // namespace lockgraph::analysis
