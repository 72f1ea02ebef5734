// `lockgraph graph TRACE [--svg FILE] [--dot FILE] [--cycles-only]`: the lock-order graph alone,
// as DOT or as SVG drawn by Graphviz.
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/report.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

struct GraphOptions {
  std::vector<std::string> traces;
  std::string svg;
  std::string dot;
  bool cycles_only = false;
};

int draw_graph(const GraphOptions& o) {
  Problem fatal;
  auto set = TraceSet::open(o.traces, &fatal, SiteNames::kShownInReports);
  if (!set) return fail(fatal.message());
  AnalysisResult result = analyze(*set);
  for (const Problem& p : result.problems) warn(p.message());
  std::string dot = render_dot(result, o.cycles_only);
  if (!o.dot.empty()) {
    if (int rc = write_output(dot, o.dot); rc != kExitOk) return rc;
  }
  if (!o.svg.empty()) {
    std::string svg, error;
    if (!dot_to_svg(dot, &svg, &error)) return fail(error);
    if (int rc = write_output(svg, o.svg); rc != kExitOk) return rc;
  }
  if (o.svg.empty() && o.dot.empty()) write_output(dot, "");
  std::size_t in_cycle = 0;
  for (const LockOrderEdge& e : result.graph) in_cycle += e.in_cycle;
  std::fprintf(stderr, "lockgraph: %zu lock-order edges, %zu in reported cycles\n", result.graph.size(), in_cycle);
  return kExitOk;
}

}  // namespace

Runner add_graph(CLI::App& app) {
  auto o = std::make_shared<GraphOptions>();
  CLI::App* cmd = app.add_subcommand("graph", "Draw the lock-order graph of a trace (DOT, or SVG through Graphviz).");
  cmd->footer(
      "An edge A -> B means a thread acquired B while holding A; edges of reported cycles are red.\n"
      "Without --svg or --dot the DOT text goes to stdout.\n\n"
      "Exit codes: 0 drawn, 2 usage or input error (Graphviz's own message is shown).");
  cmd->add_option("trace", o->traces, "Trace directory or files")->required();
  cmd->add_option("--svg", o->svg, "Write the graph as SVG to FILE");
  cmd->add_option("--dot", o->dot, "Write the graph as DOT to FILE");
  cmd->add_flag("--cycles-only", o->cycles_only, "Only the edges of reported cycles (for very large graphs)");
  return [o] { return draw_graph(*o); };
}

}  // namespace lockgraph::cli
