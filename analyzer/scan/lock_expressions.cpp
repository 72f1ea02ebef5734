// Mutex and guard types, and naming mutex expressions (see lock_expressions.hpp).
#include "lock_expressions.hpp"

#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclTemplate.h>
#include <clang/AST/ExprCXX.h>
#include <clang/Index/USRGeneration.h>
#include <clang/Lex/Lexer.h>

#include <cstring>

namespace lockgraph::scan {
namespace {

using namespace clang;

// The record behind T, references and pointers looked through.
const CXXRecordDecl* record_of(QualType t) {
  if (t.isNull()) return nullptr;
  t = t.getNonReferenceType();
  if (t->isPointerType()) t = t->getPointeeType();
  return t.getCanonicalType()->getAsCXXRecordDecl();
}

// Qualified name without library-internal inline namespaces (libc++'s __1, libstdc++'s __cxx11).
std::string clean_name(const NamedDecl* d) {
  std::string n = d->getQualifiedNameAsString();
  for (const char* inner : {"__1::", "__cxx11::"}) {
    for (auto p = n.find(inner); p != std::string::npos; p = n.find(inner)) n.erase(p, std::strlen(inner));
  }
  return n;
}

std::string spelling(const Expr* e, ASTContext& ctx) {
  const SourceManager& sm = ctx.getSourceManager();
  CharSourceRange range = CharSourceRange::getTokenRange(sm.getExpansionRange(e->getSourceRange()).getAsRange());
  return Lexer::getSourceText(range, sm, ctx.getLangOpts()).str();
}

}  // namespace

std::optional<MutexType> mutex_type(QualType t) {
  const CXXRecordDecl* rd = record_of(t);
  if (rd == nullptr) return std::nullopt;
  std::string n = clean_name(rd);
  static const char* const kStd[] = {"std::mutex",        "std::timed_mutex",           "std::recursive_mutex",
                                     "std::shared_mutex", "std::recursive_timed_mutex", "std::shared_timed_mutex",
                                     "lockgraph::shared_mutex"};
  for (const char* k : kStd) {
    if (n == k) return MutexType{n, n.find("recursive") != std::string::npos};
  }
  if (n == "lockgraph::detail::basic_mutex") {
    // basic_mutex<Recursive, Timed>: spell it as the alias users write.
    const auto* spec = dyn_cast<ClassTemplateSpecializationDecl>(rd);
    bool recursive = spec && spec->getTemplateArgs().size() > 0 && spec->getTemplateArgs()[0].getAsIntegral() != 0;
    bool timed = spec && spec->getTemplateArgs().size() > 1 && spec->getTemplateArgs()[1].getAsIntegral() != 0;
    return MutexType{std::string("lockgraph::") + (recursive ? "recursive_" : "") + (timed ? "timed_" : "") + "mutex", recursive};
  }
  return std::nullopt;
}

GuardKind guard_kind(QualType t) {
  if (t.isNull()) return GuardKind::kNone;
  const CXXRecordDecl* rd = t.getNonReferenceType().getCanonicalType()->getAsCXXRecordDecl();
  if (rd == nullptr) return GuardKind::kNone;
  std::string n = clean_name(rd);
  if (n == "std::lock_guard") return GuardKind::kLockGuard;
  if (n == "std::unique_lock") return GuardKind::kUniqueLock;
  if (n == "std::scoped_lock") return GuardKind::kScopedLock;
  if (n == "std::shared_lock") return GuardKind::kSharedLock;
  return GuardKind::kNone;
}

LockTag lock_tag(const Expr* arg) {
  if (arg == nullptr) return LockTag::kNone;
  QualType t = arg->getType();
  const CXXRecordDecl* rd = t.getNonReferenceType().getCanonicalType()->getAsCXXRecordDecl();
  if (rd == nullptr) return LockTag::kNone;
  std::string n = clean_name(rd);
  if (n == "std::defer_lock_t") return LockTag::kDefer;
  if (n == "std::try_to_lock_t") return LockTag::kTry;
  if (n == "std::adopt_lock_t") return LockTag::kAdopt;
  if (n == "std::chrono::duration" || n == "std::chrono::time_point") return LockTag::kTimed;
  return LockTag::kNone;
}

LockName name_lock(const Expr* e, const std::string& function, ASTContext& ctx) {
  LockName out;
  if (e == nullptr) return out;
  out.object = spelling(e, ctx);
  for (int hops = 0; hops < 16; ++hops) {
    e = e->IgnoreParenImpCasts();
    if (const auto* u = dyn_cast<UnaryOperator>(e); u && (u->getOpcode() == UO_AddrOf || u->getOpcode() == UO_Deref)) {
      e = u->getSubExpr();
      continue;
    }
    if (const auto* op = dyn_cast<CXXOperatorCallExpr>(e);
        op && (op->getOperator() == OO_Star || op->getOperator() == OO_Arrow) && op->getNumArgs() >= 1) {
      e = op->getArg(0);  // smart pointers: the mutex they own is named after them
      continue;
    }
    if (const auto* op = dyn_cast<CXXOperatorCallExpr>(e); op && op->getOperator() == OO_Subscript && op->getNumArgs() >= 1) {
      LockName base = name_lock(op->getArg(0), function, ctx);  // containers: one node for all elements
      out.name = base.name + "[]";
      out.decl = base.decl;
      return out;
    }
    if (const auto* ref = dyn_cast<DeclRefExpr>(e)) {
      const auto* v = dyn_cast<VarDecl>(ref->getDecl());
      if (v == nullptr) break;
      if (!isa<ParmVarDecl>(v) && v->getType()->isReferenceType() && v->hasInit() && !v->hasGlobalStorage()) {
        e = v->getInit();  // `auto& m = account.m;` names account's member
        continue;
      }
      out.decl = v;
      if (v->hasGlobalStorage() && !v->isStaticLocal()) {
        out.name = clean_name(v);
      } else {
        // Named after the function that declares it: a lambda using a captured local names
        // the enclosing function's variable.
        const auto* owner = dyn_cast_or_null<FunctionDecl>(v->getParentFunctionOrMethod());
        out.name = (owner ? function_display_name(owner) : function) + ":" + v->getNameAsString();
      }
      return out;
    }
    if (const auto* m = dyn_cast<MemberExpr>(e)) {
      const ValueDecl* d = m->getMemberDecl();
      out.decl = d;
      if (const auto* f = dyn_cast<FieldDecl>(d)) {
        out.name = clean_name(f->getParent()) + "::" + f->getNameAsString();
      } else {
        out.name = clean_name(d);
      }
      return out;
    }
    if (const auto* a = dyn_cast<ArraySubscriptExpr>(e)) {
      LockName base = name_lock(a->getBase(), function, ctx);
      out.name = base.name + "[]";
      out.decl = base.decl;
      return out;
    }
    if (const auto* call = dyn_cast<CallExpr>(e)) {
      if (const FunctionDecl* fd = call->getDirectCallee()) {
        out.name = clean_name(fd) + "()";
        return out;
      }
      break;
    }
    if (isa<CXXThisExpr>(e)) {
      if (const CXXRecordDecl* rd = record_of(e->getType())) out.name = clean_name(rd);
      return out;
    }
    break;
  }
  out.name = "(" + out.object + ")";
  return out;
}

std::string function_key(const FunctionDecl* fn) {
  llvm::SmallString<128> usr;
  if (index::generateUSRForDecl(fn, usr)) return "";
  return std::string(usr.str());
}

std::string function_display_name(const FunctionDecl* fn) {
  if (const auto* m = dyn_cast<CXXMethodDecl>(fn); m && m->getParent()->isLambda()) {
    const DeclContext* dc = m->getParent()->getDeclContext();
    while (dc != nullptr && !isa<FunctionDecl>(dc)) dc = dc->getParent();
    return dc ? "lambda in " + function_display_name(cast<FunctionDecl>(dc)) : "lambda";
  }
  return clean_name(fn);
}

}  // namespace lockgraph::scan
