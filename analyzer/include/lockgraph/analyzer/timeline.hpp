// Timeline — when each thread held or waited for each lock, for the HTML report's per-thread
// picture. Spans come from the trace's timestamps: every contended wait is timed; holds are timed
// for a sample of acquisitions (LOCKGRAPH_TIMING; all of them with LOCKGRAPH_TIMING=all).
// Cost: at most kMaxSpans spans (24 bytes each) are kept; later ones are counted in `dropped`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lockgraph::analysis {

struct TimelineSpan {
  std::uint32_t thread = 0;  // index into Timeline::threads
  std::uint32_t lock = 0;    // index into Timeline::locks
  std::uint64_t begin_ns = 0;
  std::uint64_t end_ns = 0;
  bool wait = false;         // waiting for the lock (true) or holding it
};

struct TimelineThread {
  std::string label;
  std::uint64_t first_ns = 0;  // first and last timestamped event (0: none)
  std::uint64_t last_ns = 0;
};

struct Timeline {
  static constexpr std::size_t kMaxSpans = 100000;
  std::vector<TimelineThread> threads;
  std::vector<std::string> locks;
  std::vector<TimelineSpan> spans;  // in the order they ended
  std::uint64_t begin_ns = 0;       // earliest timestamp of the run
  std::uint64_t end_ns = 0;
  std::uint64_t dropped = 0;
};

}  // namespace lockgraph::analysis
