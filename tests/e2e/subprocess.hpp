// Test helper: run a real program, capture its stdout and stderr, return its exit status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lockgraph::testing {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs argv[0] with argv; `env` entries (NAME=VALUE) are added to the environment.
RunResult run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// A fresh temporary directory removed at destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_text(const std::string& path);
// How often `what` occurs in `text` (overlapping occurrences counted).
std::size_t count_occurrences(const std::string& text, const std::string& what);

// Records of one kind in a trace, as `lockgraph dump --stats` counts them (0 when none).
std::uint64_t dumped_records(const std::string& cli, const std::string& trace, const std::string& kind);
void write_text(const std::string& path, const std::string& text);

// The 1-based number of the first line of `path` that holds `snippet`, searching from the line
// after the first one holding `anchor` (from the top when `anchor` is empty); 0 when there is none.
// Tests name source lines this way, so editing a demo cannot silently shift what they expect.
int source_line(const std::string& path, const std::string& snippet, const std::string& anchor = "");

}  // namespace lockgraph::testing
