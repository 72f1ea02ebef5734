// Test helper for the unmodified-program suite (no lockgraph headers): runs the scenario named by
// argv[1] from a table, or prints the names and returns 2.
#pragma once

#include <cstdio>
#include <cstring>
#include <initializer_list>

struct Scenario {
  const char* name;
  void (*run)();
};

inline int run_scenario(int argc, char** argv, std::initializer_list<Scenario> table) {
  const char* wanted = argc > 1 ? argv[1] : "";
  for (const Scenario& s : table) {
    if (std::strcmp(wanted, s.name) == 0) {
      s.run();
      return 0;
    }
  }
  std::fprintf(stderr, "usage: %s SCENARIO, one of:", argv[0]);
  for (const Scenario& s : table) std::fprintf(stderr, " %s", s.name);
  std::fprintf(stderr, "\n");
  return 2;
}
