// Renderers of an analysis: text (for people), JSON (docs/report-schema.md), SARIF 2.1.0 (code
// scanning), DOT (the lock-order graph). Each returns the whole document as a string.
// The gate outcome decides what is marked suppressed / baselined and the summary's verdict.
#pragma once

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
};

std::string render_text(const RenderContext& ctx);
std::string render_json(const RenderContext& ctx);
std::string render_sarif(const RenderContext& ctx);
std::string render_dot(const AnalysisResult& result);
std::string render_stats_text(const AnalysisResult& result);

}  // namespace lockgraph::analysis
