// Renderers of an analysis: text (for people), JSON (docs/report-schema.md), SARIF 2.1.0 (code
// scanning), DOT / SVG (the lock-order graph, SVG drawn by Graphviz in-process), and one
// self-contained HTML page (summary, findings with source, graph, timeline, contention; no
// network). Each returns the whole document as a string; text, JSON and SARIF can also be
// written to a stream as they are made (write_*: the same bytes), which the CLI does — a report
// of thousands of findings is several megabytes (5.8 MB of JSON for the 4,700 findings of the
// analyzer benchmark's 10^6-event trace), which a string held whole and grew through fresh memory
// by doubling; streamed, JSON and SARIF need a buffer of ~512 KiB.
// The gate outcome decides what is marked suppressed / baselined and the summary's verdict.
#pragma once

#include <iosfwd>
#include <map>
#include <string>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/gate.hpp"

namespace lockgraph::analysis {

struct RenderContext {
  const AnalysisResult& result;
  const GateOutcome& gate;
  std::size_t processes = 1;
  std::size_t thread_count = 0;
  bool color = false;
  std::string scope;  // replaces "analyzed N events from ..." in text and HTML (e.g. for merged graphs)
};

// What every format's summary says: findings shown (not suppressed) per kind, and how many the
// gate suppressed or found in the baseline.
struct FindingCounts {
  std::map<std::string, std::size_t> by_kind;  // shown findings only
  std::size_t shown = 0;
  std::size_t suppressed = 0;
  std::size_t baselined = 0;
};
FindingCounts count_findings(const RenderContext& ctx);
// "file:line" (just "file" when the line is unknown).
std::string location_text(const Location& l);

std::string render_text(const RenderContext& ctx);
std::string render_json(const RenderContext& ctx);
std::string render_sarif(const RenderContext& ctx);
void write_text(const RenderContext& ctx, std::ostream& out);
void write_json(const RenderContext& ctx, std::ostream& out);
void write_sarif(const RenderContext& ctx, std::ostream& out);
// `cycles_only`: only edges that are part of a reported cycle (for graphs too big to draw whole).
std::string render_dot(const AnalysisResult& result, bool cycles_only = false);
// Lays out DOT with Graphviz; false with a one-line *error when Graphviz rejects it.
bool dot_to_svg(const std::string& dot, std::string* svg, std::string* error);
// Source lines around each site are read from the files the trace names, when they exist.
std::string render_html(const RenderContext& ctx);
std::string render_stats_text(const AnalysisResult& result);

}  // namespace lockgraph::analysis
