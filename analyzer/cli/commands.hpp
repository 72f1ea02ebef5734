// The lockgraph CLI's subcommands. Each registers its options on the CLI11 app and returns the
// function that runs it. Exit codes (docs/user-guide.md): 0 success / nothing at the gate,
// 1 findings fail the gate, 2 usage or input error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace lockgraph::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

using Runner = std::function<int()>;

Runner add_dump(CLI::App& app);

// Prints "lockgraph: error: MESSAGE" on stderr and returns kExitUsage.
int fail(const std::string& message);
void warn(const std::string& message);

}  // namespace lockgraph::cli
