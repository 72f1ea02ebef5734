// The lockgraph CLI's subcommands. Each registers its options on the CLI11 app and returns the
// function that runs it. Exit codes (docs/user-guide.md): 0 success / nothing at the gate,
// 1 findings fail the gate, 2 usage or input error.
#pragma once

#include <CLI/CLI.hpp>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/gate.hpp"

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace lockgraph::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

using Runner = std::function<int()>;

Runner add_dump(CLI::App& app);
Runner add_analyze(CLI::App& app);
Runner add_stats(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_config(CLI::App& app);
Runner add_graph(CLI::App& app);
Runner add_merge(CLI::App& app);
Runner add_scan(CLI::App& app);
Runner add_hierarchy(CLI::App& app);
Runner add_generate(CLI::App& app);
Runner add_convert(CLI::App& app);
Runner add_explain(CLI::App& app);

// Options shared by `analyze`, `run` (which analyzes the trace of the program it ran) and
// `merge` (which reports on merged graphs; `traces` unused there).
struct AnalyzeOptions {
  std::vector<std::string> traces;
  std::string format = "text";
  std::string output;
  std::string sarif;  // extra outputs, whatever --format says
  std::string html;
  std::string save_graph;
  std::string fail_on;
  std::string suppress;
  std::string baseline;
  std::string write_baseline;
  std::string static_scan;  // analyze/run: --static SCAN.json
  std::string hierarchy;    // analyze/run: --hierarchy FILE
  std::string input_format = "lockgraph";  // analyze: lockgraph | std (RAPID's text format)
  std::string races;        // analyze: hb | shb | wcp | syncp; "" = the default for the input format
  bool predict_deadlocks = false;  // lockgraph traces: sound deadlock prediction (always for STD)
};
// The report and gate options (--format, --output, --sarif, --html, --fail-on, --suppress,
// --baseline, --write-baseline); --save-graph; and the checks only a trace can take (--static,
// --hierarchy).
void add_analyze_options(CLI::App* cmd, AnalyzeOptions& o);
void add_save_graph_option(CLI::App* cmd, AnalyzeOptions& o);
void add_trace_check_options(CLI::App* cmd, AnalyzeOptions& o);
int run_analysis(const AnalyzeOptions& o);
// The analysis `analyze` does, without reporting: kExitOk, or the exit code of an error already
// printed. `scope` is the headline for STD input (else empty).
int compute_analysis(const AnalyzeOptions& o, analysis::AnalysisResult* result, std::size_t* processes, std::string* scope);
// Reads --fail-on, --suppress and --baseline; false with *error (one line) when one is bad.
// Commands call it before their long work, so a typo fails fast.
bool load_gate(const AnalyzeOptions& o, analysis::GateConfig* gate, std::string* error);
// Applies the loaded gate, writes every requested output (--format/--output, --sarif, --html,
// --write-baseline) and returns the exit code, for an analysis done by any command. `scope`
// replaces the "analyzed N events" headline when set.
int report_and_gate(const AnalyzeOptions& o, analysis::GateConfig& gate, const analysis::AnalysisResult& result,
                    std::size_t processes, const std::string& scope);
// Writes `text` to `path` ("" or "-": stdout); kExitOk, or the one-line error's kExitUsage.
int write_output(const std::string& text, const std::string& path);
// The same for output produced piecewise (large STD traces): `write` streams into the file or stdout.
int write_output_with(const std::string& path, const std::function<void(std::ostream&)>& write);

// Prints "lockgraph: error: MESSAGE" on stderr and returns kExitUsage.
int fail(const std::string& message);
void warn(const std::string& message);

}  // namespace lockgraph::cli
