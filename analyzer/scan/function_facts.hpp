// Internal: what the scan learns about one function body, before calls are followed — the
// acquisitions it makes and the calls it makes, each with the locks held at that point.
// Produced per translation unit by BodyWalker (Clang), consumed by build_static_graph (no Clang).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lockgraph/analyzer/finding.hpp"

namespace lockgraph::scan {

struct HeldLock {
  std::string lock;      // stable source name (static_graph.hpp)
  std::string object;    // the expression's spelling, to tell `from.m` from `to.m` within a body
  analysis::Location site;
  bool shared = false;
};

struct Acquisition {
  std::string lock;
  std::string object;
  analysis::Location site;
  bool shared = false;
  bool is_try = false;   // try_lock / try_to_lock / timed: never blocks, so no edge into it
  bool together = false; // one of a std::scoped_lock / std::lock group: no edges within the group
  std::vector<HeldLock> held;
};

struct Call {
  std::string callee;    // FunctionFacts::key of the callee
  analysis::Location site;
  std::vector<HeldLock> held;
};

struct FunctionFacts {
  std::string key;       // USR: the same function in every translation unit
  std::string file;      // where the body is: programs in one database may reuse a name
  std::string name;      // for people: qualified name, lambdas as "lambda in f"
  std::vector<Acquisition> acquisitions;
  std::vector<Call> calls;
};

struct LockDeclaration {
  std::string type;
  analysis::Location declared_at;
  bool recursive = false;
};

// Everything a translation unit contributed.
struct UnitFacts {
  std::vector<FunctionFacts> functions;
  std::map<std::string, LockDeclaration> locks;
};

}  // namespace lockgraph::scan
