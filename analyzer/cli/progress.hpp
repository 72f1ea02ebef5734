// ProgressBar — "analyzing [#####.....] 48%" on stderr, for analyses that take more than a
// second, and only when stderr is a terminal (CI logs and pipes stay clean). The bar is erased
// when done. LOCKGRAPH_PROGRESS_AFTER_MS changes the one-second delay (tests use 0).
// Cost: one clock read per callback (every 65,536 events).
#pragma once

#include <chrono>
#include <cstdint>

#include "lockgraph/analyzer/analysis.hpp"

namespace lockgraph::cli {

class ProgressBar {
 public:
  ProgressBar();
  ~ProgressBar();  // erases the bar if it was drawn
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // The callback for analyze(); empty when stderr is not a terminal.
  analysis::ProgressFn callback();

 private:
  void update(std::uint64_t done, std::uint64_t total);
  std::chrono::steady_clock::time_point start_;
  std::chrono::milliseconds delay_{1000};
  bool enabled_ = false;
  bool drawn_ = false;
};

}  // namespace lockgraph::cli
