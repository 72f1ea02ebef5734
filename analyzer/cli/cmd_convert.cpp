// `lockgraph convert --to std TRACE...`: a lockgraph trace in RAPID's STD format, for research
// tools (RAPID, ...) and for `analyze --input-format std`. docs/prediction.md has the mapping.
#include <memory>
#include <ostream>

#include "commands.hpp"
#include "lockgraph/analyzer/std_convert.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

Runner add_convert(CLI::App& app) {
  auto traces = std::make_shared<std::vector<std::string>>();
  auto to = std::make_shared<std::string>("std");
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("convert", "Write a lockgraph trace in another tool's format (RAPID's STD).");
  cmd->footer(
      "STD has threads, locks, reads, writes, fork and join. Semaphores, events, condition\n"
      "variables, barriers, pools and atomics are dropped (their count is printed on stderr), access\n"
      "sizes are lost (a variable per start address) and shared locks become exclusive.\n\n"
      "Exit codes: 0 written, 2 usage or input error.");
  cmd->add_option("--to", *to, "Target format: std")->check(CLI::IsMember({"std"}));
  cmd->add_option("--output,-o", *output, "Write to FILE instead of stdout");
  cmd->add_option("trace", *traces, "Trace directory or files")->required();
  return [traces, to, output] {
    (void)to;  // only "std" so far; kept alive for CLI11, which writes it while parsing
    Problem fatal;
    auto set = TraceSet::open(*traces, &fatal);
    if (!set) return fail(fatal.message());
    // Stream in slices: the names are known before any event that uses them is written.
    StdTrace names;
    ConversionStats stats;
    int rc = write_output_with(*output, [&](std::ostream& out) {
      to_std_trace(*set, &names, [&](const StdEvent& e) {
        names.events.push_back(e);
        if (names.events.size() >= 65536) {
          names.write(out);
          names.events.clear();
        }
      }, &stats);
      names.write(out);
    });
    for (const Problem& p : set->problems()) warn(p.message());
    if (stats.sync_dropped > 0) {
      warn(std::to_string(stats.sync_dropped) +
           " synchronization events STD cannot express were dropped (semaphores, events, condition variables, "
           "barriers, pools, atomics)");
    }
    return rc;
  };
}

}  // namespace lockgraph::cli
