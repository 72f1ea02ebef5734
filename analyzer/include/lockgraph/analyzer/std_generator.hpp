// generate_std_trace() — synthetic but well-formed traces for benchmarks and tests of the
// predictive analyses (`lockgraph generate`). A random scheduler interleaves the threads one
// event at a time and respects lock ownership, so every trace is a real execution: thread 0
// forks the others first and joins them last; variables are guarded by lock (v mod locks) except
// a `racy` share of accesses, which go to unguarded variables; critical sections nest up to
// `nesting` locks deep. Same options and seed, same trace.
// Cost: O(events); 16 bytes per event.
#pragma once

#include <cstdint>

#include "lockgraph/analyzer/std_trace.hpp"

namespace lockgraph::analysis {

struct GeneratorOptions {
  std::uint32_t threads = 16;
  std::uint32_t locks = 64;
  std::uint32_t variables = 4096;
  std::uint64_t events = 1'000'000;
  std::uint32_t nesting = 2;
  double racy = 0.01;  // share of accesses to unguarded variables
  std::uint64_t seed = 1;
};

StdTrace generate_std_trace(const GeneratorOptions& o);

}  // namespace lockgraph::analysis
