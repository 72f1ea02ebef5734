// `lockgraph generate`: synthetic STD traces (RAPID's format) for benchmarks and experiments
// with the predictive analyses (`analyze --input-format std --races ...`).
#include <memory>
#include <ostream>

#include "commands.hpp"
#include "lockgraph/analyzer/std_generator.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

Runner add_generate(CLI::App& app) {
  auto o = std::make_shared<GeneratorOptions>();
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("generate", "Write a synthetic trace in RAPID's STD format (benchmarks, experiments).");
  cmd->footer(
      "A random scheduler runs the threads one event at a time and respects lock ownership, so the\n"
      "trace is a real execution: T0 forks the others first and joins them last, variables are\n"
      "guarded by lock (v mod locks) except a --racy share of accesses to unguarded shared ones.\n"
      "Same options and --seed, same trace. Analyze it with:\n"
      "  lockgraph analyze --input-format std --races wcp FILE\n\n"
      "Exit codes: 0 written, 2 usage or output error.");
  cmd->add_option("--threads", o->threads, "Threads (default 16)")->check(CLI::Range(1u, 1u << 16));
  cmd->add_option("--locks", o->locks, "Locks (default 64)")->check(CLI::Range(1u, 1u << 24));
  cmd->add_option("--variables", o->variables, "Variables (default 4096)")->check(CLI::Range(1u, 1u << 30));
  cmd->add_option("--events", o->events, "Events, about (default 1000000)")->check(CLI::Range(std::uint64_t(1), std::uint64_t(1) << 34));
  cmd->add_option("--nesting", o->nesting, "Most locks held at once (default 2)")->check(CLI::Range(1u, 64u));
  cmd->add_option("--racy", o->racy, "Share of accesses to unguarded shared variables (default 0.01)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", o->seed, "Random seed (default 1)");
  cmd->add_option("--output,-o", *output, "Write to FILE instead of stdout");
  return [o, output] {
    StdTrace t = generate_std_trace(*o);
    return write_output_with(*output, [&](std::ostream& out) { t.write(out); });
  };
}

}  // namespace lockgraph::cli
