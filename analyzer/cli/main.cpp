// lockgraph — the command-line driver. A thin layer over the analyzer library: parse options,
// call the library, print, return the documented exit code.
#include <cstdio>
#include <iostream>
#include <exception>
#include <map>
#include <new>
#include <string>

#include "allocator_tuning.hpp"
#include "commands.hpp"
#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/trace_format.hpp"

namespace lockgraph::cli {

int fail(const std::string& message) {
  std::fprintf(stderr, "lockgraph: error: %s\n", message.c_str());
  return kExitUsage;
}

void warn(const std::string& message) { std::fprintf(stderr, "lockgraph: warning: %s\n", message.c_str()); }

}  // namespace lockgraph::cli

int main(int argc, char** argv) {
  using namespace lockgraph::cli;
  tune_allocator(argv);
  // Every command ends the process after its report: large analysis state is left to the exit.
  lockgraph::analysis::leave_analysis_state_to_process_exit(true);
  CLI::App app{
      "lockgraph — finds deadlocks and data races in multithreaded C++ programs.\n"
      "Unmodified programs: `lockgraph run -- PROGRAM ARGS...` records and reports in one step.\n"
      "Programs linked with the lockgraph wrappers write a trace (one file per process) to\n"
      "$LOCKGRAPH_TRACE_DIR (default ./lockgraph-trace); `analyze`, `stats` and `dump` read it.\n"
      "Source without running it: `lockgraph scan -p BUILD_DIR` (Clang, compile_commands.json).\n\n"
      "Exit codes: 0 success, 1 findings that fail the gate, 2 usage or input error.",
      "lockgraph"};
  app.set_version_flag("--version", std::string("lockgraph ") + LOCKGRAPH_VERSION + " (trace format v" +
                                       std::to_string(lockgraph::format::kVersion) + ")");
  app.require_subcommand(1);
  std::map<CLI::App*, Runner> runners;
  auto add = [&](Runner (*f)(CLI::App&)) {
    std::size_t before = app.get_subcommands({}).size();
    Runner r = f(app);
    runners[app.get_subcommands({})[before]] = std::move(r);
  };
  add(add_run);
  add(add_analyze);
  add(add_stats);
  add(add_graph);
  add(add_merge);
  add(add_scan);
  add(add_hierarchy);
  add(add_generate);
  add(add_convert);
  add(add_explain);
  add(add_dump);
  add(add_config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    return fail(what + " (see lockgraph --help)");
  }
  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (const std::bad_alloc&) {
      return fail("out of memory (the trace is larger than this machine can analyze at once)");
    } catch (const std::exception& e) {
      // A bug, not the user's fault: still one line and the documented exit code.
      return fail(std::string("internal error: ") + e.what() + " (please report it with the trace)");
    }
  }
  return fail("no command given (see lockgraph --help)");
}
