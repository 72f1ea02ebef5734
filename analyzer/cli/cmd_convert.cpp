// `lockgraph convert --to std TRACE...`: a lockgraph trace in RAPID's STD format, for research
// tools (RAPID, ...) and for `analyze --input-format std`; `convert --to lockgraph FILE.std`: the
// other way, as lockgraph's text form. docs/prediction.md has both mappings.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "lockgraph/analyzer/std_convert.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

int std_to_lockgraph(const std::vector<std::string>& inputs, const std::string& output) {
  if (inputs.size() != 1) return fail("--to lockgraph reads exactly one STD file (got " + std::to_string(inputs.size()) + ")");
  StdTrace names;
  Problem problem;
  std::uint64_t events = 0, dropped = 0;
  bool complete = true;
  int rc = write_output_with(output, [&](std::ostream& out) {
    StdToText text(names, inputs[0], out);
    complete = StdTrace::parse_file_stream(inputs[0], &names, &problem, [&](const StdEvent& e) {
      ++events;
      text.on_event(e);
    });
    dropped = text.dropped();
  });
  if (!complete && events == 0) return fail(problem.message());
  if (!complete) warn(problem.message() + " (the " + std::to_string(events) + " events before it are converted)");
  if (dropped > 0) warn(std::to_string(dropped) + " begin/end markers were dropped (lockgraph traces have no atomic blocks)");
  return rc;
}

}  // namespace

Runner add_convert(CLI::App& app) {
  auto traces = std::make_shared<std::vector<std::string>>();
  auto to = std::make_shared<std::string>("std");
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert between lockgraph traces and RAPID's STD format.");
  cmd->footer(
      "--to std TRACE...: STD has threads, locks, reads, writes, fork and join. Semaphores, events,\n"
      "condition variables, barriers, pools and atomics are dropped (their count is printed on\n"
      "stderr), access sizes are lost (a variable per start address) and shared locks become exclusive.\n"
      "--to lockgraph FILE.std: lockgraph's text form (docs/trace-format.md), which analyze reads;\n"
      "threads named T<n> keep id n, so lockgraph -> STD -> lockgraph -> STD gives the same STD.\n\n"
      "Exit codes: 0 written, 2 usage or input error.");
  cmd->add_option("--to", *to, "Target format: std (default) or lockgraph (text form, from one STD file)")
      ->check(CLI::IsMember({"std", "lockgraph"}));
  cmd->add_option("--output,-o", *output, "Write to FILE instead of stdout");
  cmd->add_option("trace", *traces, "Trace directory or files (--to std), one STD file (--to lockgraph)")->required();
  return [traces, to, output] {
    if (*to == "lockgraph") return std_to_lockgraph(*traces, *output);
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
