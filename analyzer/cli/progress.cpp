// ProgressBar; see progress.hpp.
#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace lockgraph::cli {

ProgressBar::ProgressBar() : start_(std::chrono::steady_clock::now()), enabled_(isatty(STDERR_FILENO) != 0) {
  if (const char* env = std::getenv("LOCKGRAPH_PROGRESS_AFTER_MS"); env != nullptr && *env != '\0') {
    delay_ = std::chrono::milliseconds(std::strtoll(env, nullptr, 10));
  }
}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

analysis::ProgressFn ProgressBar::callback() {
  if (!enabled_) return {};
  return [this](std::uint64_t done, std::uint64_t total) { update(done, total); };
}

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  if (std::chrono::steady_clock::now() - start_ < delay_) return;
  constexpr int kWidth = 30;
  double share = total > 0 ? std::min(1.0, double(done) / double(total)) : 0.0;
  int filled = int(share * kWidth);
  std::string bar(std::size_t(filled), '#');
  bar.append(std::size_t(kWidth - filled), '.');
  std::fprintf(stderr, "\rlockgraph: analyzing [%s] %3d%%  %.1fM of %.1fM events", bar.c_str(), int(share * 100),
               double(done) / 1e6, double(total) / 1e6);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace lockgraph::cli
