// `lockgraph hierarchy TRACE_OR_SCAN`: the observed lock order written down — as a hierarchy file
// that `analyze --hierarchy` enforces, or as Clang Thread Safety Analysis attribute suggestions.
#include <memory>

#include "commands.hpp"
#include "lockgraph/analyzer/hierarchy.hpp"
#include "lockgraph/analyzer/static_graph.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

struct HierarchyOptions {
  std::vector<std::string> inputs;
  std::string format = "file";
  std::string output;
};

int write_hierarchy(const HierarchyOptions& o) {
  std::vector<std::pair<std::string, std::string>> edges;
  std::map<std::string, Location> declared;
  std::string source;
  std::string error;
  if (o.inputs.size() == 1 && StaticGraph::looks_like(o.inputs[0])) {
    StaticGraph g;
    if (!StaticGraph::load(o.inputs[0], &g, &error)) return fail(error);
    for (const StaticEdge& e : g.edges) edges.emplace_back(e.from, e.to);
    for (const auto& [name, l] : g.locks) declared[name] = l.declared_at;
    source = "the source scan " + o.inputs[0];
  } else {
    Problem fatal;
    auto set = TraceSet::open(o.inputs, &fatal, SiteNames::kShownInReports);
    if (!set) return fail(fatal.message());
    AnalysisResult result = analyze(*set);
    for (const Problem& p : result.problems) warn(p.message());
    for (const LockOrderEdge& e : result.graph) edges.emplace_back(e.from, e.to);
    for (const LockStats& l : result.locks) declared[l.name] = l.created_at;
    source = "the trace " + o.inputs[0];
  }
  LockHierarchy h = LockHierarchy::derive(edges, std::move(declared), source);
  for (const auto& c : h.cycles) {
    std::string locks;
    for (const std::string& l : c) locks += (locks.empty() ? "" : ", ") + l;
    warn("not ordered: " + locks + " are taken in both orders (a lock-order cycle; fix it first)");
  }
  return write_output(o.format == "tsa" ? h.render_tsa() : h.render(), o.output);
}

}  // namespace

Runner add_hierarchy(CLI::App& app) {
  auto o = std::make_shared<HierarchyOptions>();
  CLI::App* cmd = app.add_subcommand("hierarchy", "Write the observed lock order as a lock hierarchy or as Clang TSA attributes.");
  cmd->footer(
      "INPUT: a trace (directory or files) or a saved source scan (lockgraph scan --save FILE).\n\n"
      "--format file (default): one \"BEFORE -> AFTER\" per line, the transitive reduction of the observed\n"
      "  order. Commit it, then `lockgraph analyze --hierarchy FILE TRACE` (or run --hierarchy) reports\n"
      "  every acquisition against it as hierarchy_violation.\n"
      "--format tsa: per lock, where it is declared and the ACQUIRED_BEFORE/ACQUIRED_AFTER attributes\n"
      "  to add for Clang's -Wthread-safety-beta.\n"
      "Locks taken in both orders cannot be ordered: they are left out and named on stderr.\n\n"
      "Exit codes: 0 written, 2 usage or input error.");
  cmd->add_option("input", o->inputs, "Trace directory or files, or a saved scan")->required();
  cmd->add_option("--format,-f", o->format, "file (default) or tsa")->check(CLI::IsMember({"file", "tsa"}));
  cmd->add_option("--output,-o", o->output, "Write to FILE instead of stdout");
  return [o] { return write_hierarchy(*o); };
}

}  // namespace lockgraph::cli
