// `lockgraph merge GRAPH...`: lock-order graphs saved by many runs (`analyze --save-graph`)
// merged into one; cycles that only several runs together close are reported and gated like
// any analysis (docs/ci.md, "Lock order across tests").
#include <memory>

#include "commands.hpp"
#include "lockgraph/analyzer/saved_graph.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

struct MergeOptions {
  AnalyzeOptions report;
  std::vector<std::string> graphs;
};

int merge_graphs(const MergeOptions& o) {
  GateConfig gate;
  std::string error;
  if (!load_gate(o.report, &gate, &error)) return fail(error);
  SavedGraph merged;
  for (const std::string& path : o.graphs) {
    SavedGraph g;
    if (!SavedGraph::load(path, &g, &error)) return fail(error);
    merged.merge(g);
  }
  if (!o.report.save_graph.empty() && !merged.save(o.report.save_graph, &error)) return fail(error);
  AnalysisResult result;
  result.findings = merged.cross_run_cycles();
  result.graph = merged.lock_order_edges(result.findings);
  std::string scope = "merged the lock-order graphs of " + std::to_string(merged.runs.size()) +
                      (merged.runs.size() == 1 ? " run" : " runs") + " (" + std::to_string(merged.edges.size()) +
                      " edges); cycles no single run closed:";
  return report_and_gate(o.report, gate, result, merged.runs.size(), scope);
}

}  // namespace

Runner add_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand("merge", "Merge lock-order graphs saved by many runs and report cycles across them.");
  cmd->footer(
      "Each run saves its graph:   lockgraph analyze TRACE --save-graph run1.graph.json\n"
      "then, once for all runs:    lockgraph merge run*.graph.json --save-graph all.graph.json\n"
      "A cycle is reported (deadlock_potential) when no single run took all of its edges: e.g. one test\n"
      "takes A then B, another B then A. Cycles inside one run were judged by that run's own analysis.\n"
      "Merging is associative and idempotent: merge in any grouping, merge a graph twice, same result.\n\n"
      "Exit codes: 0 nothing fails the gate, 1 cycles fail the gate, 2 usage or input error.");
  cmd->add_option("graph", o->graphs, "Saved graphs (from --save-graph)")->required()->check(CLI::ExistingFile);
  add_analyze_options(cmd, o->report);
  add_save_graph_option(cmd, o->report);  // writes the merged graph
  return [o] { return merge_graphs(*o); };
}

}  // namespace lockgraph::cli
