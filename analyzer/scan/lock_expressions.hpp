// Internal (Clang): which types are mutexes and guards, and the stable name of a mutex expression.
//
//   mutex_type(T)   std::{,timed_,recursive_,recursive_timed_,shared_,shared_timed_}mutex and the
//                   lockgraph wrappers (references and pointers looked through)
//   guard_kind(T)   std::lock_guard, unique_lock, scoped_lock, shared_lock
//   name_lock(E)    `ns::global`, `Class::member` (all instances: one lockdep-style class),
//                   `function:param`, `function:local`, `name[]` for array elements, `f()` for a
//                   function returning the mutex; locals bound by reference are followed to their
//                   initializer. `object` is the expression as spelled (tells `a.m` from `b.m`).
// Cost: a few AST hops per expression.
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Expr.h>

#include <optional>
#include <string>

#include "analysis_location.hpp"

namespace lockgraph::scan {

struct MutexType {
  std::string name;  // "std::mutex", "lockgraph::recursive_mutex", ...
  bool recursive = false;
};
std::optional<MutexType> mutex_type(clang::QualType t);

enum class GuardKind { kNone, kLockGuard, kUniqueLock, kScopedLock, kSharedLock };
GuardKind guard_kind(clang::QualType t);

// The tag types of a guard's second constructor argument.
enum class LockTag { kNone, kDefer, kTry, kAdopt, kTimed };
LockTag lock_tag(const clang::Expr* arg);

struct LockName {
  std::string name;
  std::string object;
  const clang::NamedDecl* decl = nullptr;  // the variable or member, when there is one
};
LockName name_lock(const clang::Expr* e, const std::string& function, clang::ASTContext& ctx);

// The function's USR: the same in every translation unit ("" when Clang cannot make one).
std::string function_key(const clang::FunctionDecl* fn);

// "ns::Class::method" or "lambda in ns::f" — how reports name a function.
std::string function_display_name(const clang::FunctionDecl* fn);

}  // namespace lockgraph::scan
