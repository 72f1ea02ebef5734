// Internal (Clang): walks one function body in source order and records its acquisitions and
// calls with the locks held at each (FunctionFacts).
//
// Model: RAII guards release at the end of their scope; unique_lock/shared_lock track unlock(),
// lock(), release() and the defer/try/adopt tags; direct lock()/unlock() on mutexes and the
// pthread_{mutex,rwlock,spin}_* calls pair by expression. Branches are joined by intersection
// (a lock counts as held after an `if` only when every branch that falls through holds it), a
// branch ending in return/throw/break/continue/goto does not fall through, loop bodies are
// walked once and leave the state they found. Lambda bodies are separate functions.
// Not modelled: locks handed across functions (a function that returns holding a lock),
// virtual calls and calls through function pointers (not followed).
// Cost: one pass over the body; O(held locks) per acquisition.
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Decl.h>

#include "function_facts.hpp"

namespace lockgraph::scan {

// Walks fn's body (`key`: its USR, `file`: where the body is); lock declarations met on the way
// are added to unit.locks.
FunctionFacts walk_function(const clang::FunctionDecl* fn, const std::string& key, const std::string& file,
                            clang::ASTContext& ctx, UnitFacts& unit);

}  // namespace lockgraph::scan
