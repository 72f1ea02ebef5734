// StaticGraph — the lock order the *source* establishes, as found by `lockgraph scan` (Clang
// tooling over compile_commands.json) and saved as JSON (`scan --save FILE`). The analyzer library
// reads it without Clang: `analyze --static FILE` checks a run's edges against it, `hierarchy`
// derives a lock order from it.
//
// Lock names are stable source names: a global `ns::name`, a class member `Class::member` (every
// instance of the class is one node, as lockdep's lock classes), a parameter or local
// `function:name`, an array's elements `name[]`.
// An edge A->B says: some function acquires B while A is held — directly, or in a callee reached
// through at most `call_depth` calls made while A is held (the chain is the acquisition's stack).
// Cost: file size O(locks x sites + edges x evidence); evidence is capped per edge.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "lockgraph/analyzer/analysis.hpp"

namespace lockgraph::analysis {

struct StaticLock {
  std::string type;                  // "std::mutex", "pthread_mutex_t", ...
  Location declared_at;              // where the variable or member is declared (may be unknown)
  std::vector<Location> acquired_at; // every distinct acquisition site (capped at kMaxSites)
  bool recursive = false;
};

struct StaticEdge {
  std::string from;
  std::string to;
  Location held_at;                  // where `from` was acquired (function, file:line)
  Location acquired_at;              // where `to` is acquired; .stack = the call chain from held_at's function
  std::vector<std::string> gates;    // other locks held at the same time
  bool held_shared = false;
  bool acquired_shared = false;
};

struct StaticGraph {
  static constexpr int kVersion = 1;
  static constexpr std::size_t kMaxSites = 64;
  static constexpr std::size_t kEvidencePerEdge = 4;
  std::string build_dir;
  std::size_t files = 0;             // translation units scanned
  std::size_t functions = 0;         // function bodies walked
  unsigned call_depth = 0;
  std::vector<std::string> problems; // files that failed to parse (their readable part is included)
  std::map<std::string, StaticLock> locks;
  std::vector<StaticEdge> edges;     // up to kEvidencePerEdge per (from, to), distinct by sites

  // Adds e unless (from, to) already has kEvidencePerEdge pieces or this one's sites.
  void add_edge(StaticEdge e);
  // False with a one-line *error naming the file and what is wrong.
  static bool load(const std::string& path, StaticGraph* out, std::string* error);
  bool save(const std::string& path, std::string* error) const;
  // True when the file is JSON, so not a trace (cheap sniffing for `hierarchy`; load() then
  // says precisely what is wrong with a JSON file that is not a scan).
  static bool looks_like(const std::string& path);
  // The graph as lock-order edges (for DOT / HTML); edges of `cycles` marked in_cycle.
  std::vector<LockOrderEdge> lock_order_edges(const std::vector<Finding>& cycles) const;
};

// deadlock_static findings: the smallest cycle through each edge of the source's lock order,
// unless one gate lock is held on every edge or every hand-over is reader-reader.
// (detectors/static_lock_order.cpp)
std::vector<Finding> static_cycles(const StaticGraph& g);

// `analyze --static`: marks each edge of result.graph as confirmed by the source or not (matching
// locks by acquisition site, then by name), annotates the deadlock findings' edges, and adds a
// deadlock_static finding for every cycle that static-only edges close with the run's edges — a
// path the tests never exercised. Returns how many dynamic locks were matched to source locks.
std::size_t apply_static(const StaticGraph& g, AnalysisResult& result);

}  // namespace lockgraph::analysis
