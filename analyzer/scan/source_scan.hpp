// scan_sources() — the static half of lockgraph: reads a build's compile_commands.json, parses
// each translation unit with Clang (LibTooling; functions found with AST matchers) and returns
// the source's lock-order graph (StaticGraph) for `lockgraph scan`.
//
//   ScanOptions o;
//   o.build_dir = "build";                 // holds compile_commands.json
//   StaticGraph g;
//   if (!scan_sources(o, &g, &error)) ...  // error: no database, no such file
//   static_cycles(g)                       // deadlock_static findings
//
// A file Clang cannot parse is listed in g.problems with its first error; what Clang recovered
// of it is still scanned. Each function body is walked once even when a header is included by
// many files. Files are parsed on `jobs` threads.
// Cost: dominated by parsing — roughly a compile with -fsyntax-only per file, in parallel.
#pragma once

#include <string>
#include <vector>

#include "lockgraph/analyzer/static_graph.hpp"

namespace lockgraph::scan {

struct ScanOptions {
  std::string build_dir;
  std::vector<std::string> files;          // empty: every file of the database
  unsigned call_depth = 4;                 // calls followed while a lock is held
  unsigned jobs = 0;                       // 0: one per hardware thread
  std::vector<std::string> extra_args;     // appended to every compile command
  analysis::ProgressFn progress;           // (files done, files), after each file
};

bool scan_sources(const ScanOptions& options, analysis::StaticGraph* out, std::string* error);

}  // namespace lockgraph::scan
