// Test helpers for the predictive analyses: STD traces written inline, and races as
// "VAR:LINE1-LINE2" strings (the first access's line, then the second's).
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/std_generator.hpp"

namespace lockgraph::analysis::testing {

inline StdTrace parse_ok(const std::string& text) {
  StdTrace t;
  Problem p;
  EXPECT_TRUE(StdTrace::parse(text, "test.std", &t, &p)) << p.message();
  return t;
}

using Set = std::set<std::string>;

// Options for generate_std_trace() (lockgraph/analyzer/std_generator.hpp) in one line.
inline GeneratorOptions generator(std::uint32_t threads, std::uint32_t locks, std::uint32_t variables,
                                  std::uint64_t events, double racy, std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.threads = threads;
  o.locks = locks;
  o.variables = variables;
  o.events = events;
  o.racy = racy;
  o.seed = seed;
  return o;
}

inline Set races(const std::string& text, RaceAnalysis a) {
  Set out;
  for (const Finding& f : predict_races(parse_ok(text), a, "test.std").findings) {
    EXPECT_EQ(f.kind, a == RaceAnalysis::kLockset ? kUnprotectedWrite : kDataRace);
    out.insert(f.objects.at(0) + ":" + std::to_string(f.locations.at(0).line) + "-" + std::to_string(f.locations.at(1).line));
  }
  return out;
}

}  // namespace lockgraph::analysis::testing
