// Internal: from every function's facts to the source's lock-order graph (no Clang here).
// Edges inside a function come from its acquisitions' held sets; a call made while locks are held
// adds an edge from each of them to every lock the callee acquires, directly or through at most
// `call_depth` calls (breadth first: the shortest call chain is the evidence kept). A callee
// defined more than once (several programs in one database) resolves to the definition in the
// caller's file, else the first.
// Cost: O(functions x calls) for the reachability, memoized per callee.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "function_facts.hpp"
#include "lockgraph/analyzer/static_graph.hpp"

namespace lockgraph::scan {

analysis::StaticGraph build_static_graph(const std::vector<FunctionFacts>& functions,
                                         const std::map<std::string, LockDeclaration>& locks, unsigned call_depth);

}  // namespace lockgraph::scan
