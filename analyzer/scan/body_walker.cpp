// Walking one function body (see body_walker.hpp).
#include "body_walker.hpp"

#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/StmtCXX.h>

#include <algorithm>
#include <map>

#include "analysis_location.hpp"
#include "lock_expressions.hpp"

namespace lockgraph::scan {
namespace {

using namespace clang;
using analysis::Location;

struct Entry {
  HeldLock lock;
  const VarDecl* owner = nullptr;  // the guard that releases it, if any
};

struct State {
  std::vector<Entry> held;
  bool terminated = false;  // this path returned, threw or jumped away
};

// A guard's mutexes, for unique_lock::lock() after defer_lock or unlock().
struct GuardInfo {
  std::vector<LockName> mutexes;
  bool shared = false;
};

class Walker {
 public:
  Walker(ASTContext& ctx, UnitFacts& unit, FunctionFacts& out)
      : fn_name_(out.name), ctx_(ctx), sm_(ctx.getSourceManager()), unit_(unit), out_(out) {}

  void walk(const Stmt* body) { stmt(body); }

 private:
  // ---- statements ----
  void stmt(const Stmt* s) {
    if (s == nullptr) return;
    if (const auto* c = dyn_cast<SwitchCase>(s); c && !switch_entry_.empty()) {
      st_.held = switch_entry_.back();  // each case label is entered from the switch
      st_.terminated = false;
      stmt(c->getSubStmt());
      return;
    }
    if (const auto* c = dyn_cast<CompoundStmt>(s)) {
      scopes_.emplace_back();
      for (const Stmt* child : c->body()) {
        if (st_.terminated && !isa<SwitchCase>(child)) continue;  // dead code after return/break
        stmt(child);
      }
      close_scope();
      return;
    }
    if (const auto* d = dyn_cast<DeclStmt>(s)) {
      for (const Decl* decl : d->decls()) {
        if (const auto* v = dyn_cast<VarDecl>(decl)) var(v);
      }
      return;
    }
    if (const auto* i = dyn_cast<IfStmt>(s)) {
      stmt(i->getInit());
      if (const VarDecl* v = i->getConditionVariable()) var(v);
      expr(i->getCond());
      either([&] { stmt(i->getThen()); }, [&] { stmt(i->getElse()); });
      return;
    }
    if (isa<WhileStmt, ForStmt, DoStmt, CXXForRangeStmt>(s)) {
      loop(s);
      return;
    }
    if (const auto* sw = dyn_cast<SwitchStmt>(s)) {
      stmt(sw->getInit());
      if (const VarDecl* v = sw->getConditionVariable()) var(v);
      expr(sw->getCond());
      State before = st_;
      switch_entry_.push_back(before.held);
      stmt(sw->getBody());
      switch_entry_.pop_back();
      st_ = before;
      return;
    }
    if (const auto* r = dyn_cast<ReturnStmt>(s)) {
      expr(r->getRetValue());
      st_.terminated = true;
      return;
    }
    if (isa<BreakStmt, ContinueStmt, GotoStmt, IndirectGotoStmt>(s)) {
      st_.terminated = true;
      return;
    }
    if (const auto* t = dyn_cast<CXXTryStmt>(s)) {
      State before = st_;
      stmt(t->getTryBlock());
      State after = st_;
      for (unsigned h = 0; h < t->getNumHandlers(); ++h) {
        st_ = before;  // handlers: walked for what they acquire, joined like branches
        stmt(t->getHandler(h)->getHandlerBlock());
        join(after);
        after = st_;
      }
      st_ = after;
      return;
    }
    if (const auto* e = dyn_cast<Expr>(s)) {
      expr(e);
      return;
    }
    for (const Stmt* child : s->children()) stmt(child);
  }

  void loop(const Stmt* s) {
    const Stmt* body = nullptr;
    if (const auto* w = dyn_cast<WhileStmt>(s)) {
      if (const VarDecl* v = w->getConditionVariable()) var(v);
      expr(w->getCond());
      body = w->getBody();
    } else if (const auto* f = dyn_cast<ForStmt>(s)) {
      stmt(f->getInit());
      expr(f->getCond());
      body = f->getBody();
    } else if (const auto* d = dyn_cast<DoStmt>(s)) {
      body = d->getBody();
    } else if (const auto* r = dyn_cast<CXXForRangeStmt>(s)) {
      stmt(r->getInit());
      expr(r->getRangeInit());
      body = r->getBody();
    }
    State before = st_;
    stmt(body);
    if (const auto* f = dyn_cast<ForStmt>(s)) expr(f->getInc());
    if (const auto* d = dyn_cast<DoStmt>(s)) expr(d->getCond());
    st_ = before;  // zero or more iterations: the state the loop found
  }

  // Two paths from the current state (if/else, ?:), joined.
  template <class First, class Second>
  void either(First first, Second second) {
    State before = st_;
    first();
    State one = st_;
    st_ = before;
    second();
    join(one);
  }

  // Joins the current path with `other`: locks held on every path that falls through.
  void join(const State& other) {
    if (other.terminated) return;
    if (st_.terminated) {
      st_ = other;
      return;
    }
    std::vector<Entry> both;
    for (const Entry& e : st_.held) {
      for (const Entry& o : other.held) {
        if (o.lock.lock == e.lock.lock && o.lock.object == e.lock.object && o.owner == e.owner) {
          both.push_back(e);
          break;
        }
      }
    }
    st_.held.swap(both);
  }

  void close_scope() {
    for (const VarDecl* v : scopes_.back()) release_owned(v);
    scopes_.pop_back();
  }

  void var(const VarDecl* v) {
    GuardKind kind = guard_kind(v->getType());
    if (kind == GuardKind::kNone || v->getType()->isReferenceType()) {
      expr(v->getInit());
      return;
    }
    if (!scopes_.empty()) scopes_.back().push_back(v);
    const CXXConstructExpr* ctor = construct_of(v->getInit());
    if (ctor == nullptr) return;
    guard(kind, ctor, v);
  }

  static const CXXConstructExpr* construct_of(const Expr* init) {
    for (int hops = 0; init != nullptr && hops < 8; ++hops) {
      init = init->IgnoreImplicit()->IgnoreParens();
      if (const auto* c = dyn_cast<CXXConstructExpr>(init)) return c;
      if (const auto* cast = dyn_cast<CXXFunctionalCastExpr>(init)) {
        init = cast->getSubExpr();
        continue;
      }
      if (const auto* list = dyn_cast<InitListExpr>(init); list && list->getNumInits() == 1) {
        init = list->getInit(0);
        continue;
      }
      return nullptr;
    }
    return nullptr;
  }

  // A guard constructed for `owner` (nullptr: a temporary, released at once).
  void guard(GuardKind kind, const CXXConstructExpr* ctor, const VarDecl* owner) {
    const unsigned n = ctor->getNumArgs();
    if (n == 0 || isa<CXXDefaultArgExpr>(ctor->getArg(0))) return;  // default-constructed: owns nothing
    GuardInfo info;
    info.shared = kind == GuardKind::kSharedLock;
    LockTag tag = LockTag::kNone;
    unsigned first = 0;
    if (kind == GuardKind::kScopedLock) {
      if (lock_tag(ctor->getArg(0)) == LockTag::kAdopt) tag = LockTag::kAdopt, first = 1;
      for (unsigned i = first; i < n; ++i) info.mutexes.push_back(name(ctor->getArg(i)));
    } else {
      if (copy_or_move(ctor)) return;
      info.mutexes.push_back(name(ctor->getArg(0)));
      if (n > 1) tag = lock_tag(ctor->getArg(1));
    }
    if (owner != nullptr) guards_[owner] = info;
    Location site = here(ctor->getBeginLoc());
    if (tag == LockTag::kDefer) return;
    if (tag == LockTag::kAdopt) {
      for (const LockName& m : info.mutexes) adopt(m, owner, site, info.shared);
      return;
    }
    acquire(info.mutexes, site, info.shared, tag == LockTag::kTry || tag == LockTag::kTimed, owner);
    if (owner == nullptr) {
      for (const LockName& m : info.mutexes) release(m);
    }
  }

  static bool copy_or_move(const CXXConstructExpr* ctor) {
    return guard_kind(ctor->getArg(0)->getType()) != GuardKind::kNone;
  }

  // ---- expressions ----
  void expr(const Expr* e) {
    if (e == nullptr) return;
    if (isa<LambdaExpr>(e) || isa<BlockExpr>(e)) return;  // separate functions
    if (const auto* t = dyn_cast<CXXThrowExpr>(e)) {
      expr(t->getSubExpr());
      st_.terminated = true;
      return;
    }
    if (const auto* c = dyn_cast<ConditionalOperator>(e)) {
      expr(c->getCond());
      either([&] { expr(c->getTrueExpr()); }, [&] { expr(c->getFalseExpr()); });
      return;
    }
    if (const auto* c = dyn_cast<CXXConstructExpr>(e)) {
      for (const Expr* a : c->arguments()) expr(a);
      if (GuardKind k = guard_kind(c->getType()); k != GuardKind::kNone) {
        guard(k, c, nullptr);  // a temporary guard: locks and unlocks at once
        return;
      }
      const CXXConstructorDecl* d = c->getConstructor();
      if (d != nullptr && d->isUserProvided()) call(d, c->getBeginLoc());
      return;
    }
    for (const Stmt* child : e->children()) {
      if (const auto* ce = dyn_cast_or_null<Expr>(child)) expr(ce);
    }
    if (const auto* m = dyn_cast<CXXMemberCallExpr>(e)) {
      member_call(m);
    } else if (const auto* c = dyn_cast<CallExpr>(e)) {
      free_call(c);
    }
  }

  void member_call(const CXXMemberCallExpr* m) {
    const CXXMethodDecl* method = m->getMethodDecl();
    const Expr* object = m->getImplicitObjectArgument();
    if (method == nullptr || object == nullptr) return;
    std::string op = method->getNameAsString();
    if (guard_kind(object->getType()) != GuardKind::kNone) {
      const auto* ref = dyn_cast<DeclRefExpr>(object->IgnoreParenImpCasts());
      const auto* v = ref ? dyn_cast<VarDecl>(ref->getDecl()) : nullptr;
      auto it = v ? guards_.find(v) : guards_.end();
      if (it == guards_.end()) return;
      if (op == "unlock") {
        release_owned(v);
      } else if (op == "release") {
        for (Entry& e : st_.held) {
          if (e.owner == v) e.owner = nullptr;  // still locked, now by hand
        }
      } else if (op == "lock" || op == "try_lock" || op == "try_lock_for" || op == "try_lock_until") {
        acquire(it->second.mutexes, here(m->getBeginLoc()), it->second.shared, op != "lock", v);
      }
      return;
    }
    if (auto mt = mutex_type(object->getType())) {
      LockName n = name(object);
      if (op == "lock" || op == "lock_shared") {
        acquire({n}, here(m->getBeginLoc()), op == "lock_shared", false, nullptr);
      } else if (op.rfind("try_lock", 0) == 0) {
        acquire({n}, here(m->getBeginLoc()), op.find("shared") != std::string::npos, true, nullptr);
      } else if (op == "unlock" || op == "unlock_shared") {
        release(n);
      }
      return;
    }
    call(method, m->getBeginLoc());
  }

  void free_call(const CallExpr* c) {
    const FunctionDecl* fd = c->getDirectCallee();
    if (fd == nullptr) return;  // function pointers: not followed
    std::string f = fd->getQualifiedNameAsString();
    if (f.rfind("pthread_", 0) == 0 && c->getNumArgs() >= 1) {
      static const char* const kLock[] = {"pthread_mutex_lock", "pthread_rwlock_wrlock", "pthread_spin_lock"};
      static const char* const kTry[] = {"pthread_mutex_trylock", "pthread_mutex_timedlock", "pthread_rwlock_trywrlock",
                                         "pthread_rwlock_timedwrlock", "pthread_spin_trylock"};
      static const char* const kTryShared[] = {"pthread_rwlock_tryrdlock", "pthread_rwlock_timedrdlock"};
      static const char* const kUnlock[] = {"pthread_mutex_unlock", "pthread_rwlock_unlock", "pthread_spin_unlock"};
      auto in = [&](const auto& list) {
        for (const char* s : list) {
          if (f == s) return true;
        }
        return false;
      };
      Location site = here(c->getBeginLoc());
      if (in(kLock)) return acquire({pthread_name(c->getArg(0))}, site, false, false, nullptr);
      if (f == "pthread_rwlock_rdlock") return acquire({pthread_name(c->getArg(0))}, site, true, false, nullptr);
      if (in(kTry)) return acquire({pthread_name(c->getArg(0))}, site, false, true, nullptr);
      if (in(kTryShared)) return acquire({pthread_name(c->getArg(0))}, site, true, true, nullptr);
      if (in(kUnlock)) return release(pthread_name(c->getArg(0)));
      return;
    }
    if (f == "std::lock" || f == "std::try_lock") {
      std::vector<LockName> group;
      for (const Expr* a : c->arguments()) group.push_back(name(a));
      acquire(group, here(c->getBeginLoc()), false, f == "std::try_lock", nullptr);
      return;
    }
    call(fd, c->getBeginLoc());
  }

  LockName pthread_name(const Expr* arg) {
    LockName n = name(arg);
    if (const auto* v = dyn_cast_or_null<ValueDecl>(n.decl)) {
      std::string type = v->getType().getUnqualifiedType().getAsString();
      declare(n, type.empty() ? "pthread lock" : type, false);  // skips pointers and references itself
    }
    return n;
  }

  // ---- lock state ----
  LockName name(const Expr* e) {
    LockName n = name_lock(e, fn_name_, ctx_);
    if (auto mt = mutex_type(e->getType())) declare(n, mt->name, mt->recursive);
    return n;
  }

  void declare(const LockName& n, const std::string& type, bool recursive) {
    if (n.decl == nullptr || unit_.locks.count(n.name)) return;
    // Parameters and reference locals are not declarations of a lock: the caller's object is.
    const auto* v = dyn_cast<ValueDecl>(n.decl);
    if (v != nullptr && (v->getType()->isReferenceType() || v->getType()->isPointerType())) return;
    LockDeclaration d;
    d.type = type;
    d.recursive = recursive;
    d.declared_at = make_location(sm_, n.decl->getLocation(), "");
    unit_.locks[n.name] = std::move(d);
  }

  Location here(SourceLocation loc) const { return make_location(sm_, loc, fn_name_); }

  void acquire(const std::vector<LockName>& locks, const Location& site, bool shared, bool is_try, const VarDecl* owner) {
    std::vector<HeldLock> held;
    held.reserve(st_.held.size());
    for (const Entry& e : st_.held) held.push_back(e.lock);
    for (const LockName& l : locks) {
      Acquisition a;
      a.lock = l.name;
      a.object = l.object;
      a.site = site;
      a.shared = shared;
      a.is_try = is_try;
      a.together = locks.size() > 1;
      a.held = held;
      out_.acquisitions.push_back(std::move(a));
    }
    for (const LockName& l : locks) st_.held.push_back(Entry{HeldLock{l.name, l.object, site, shared}, owner});
  }

  void adopt(const LockName& l, const VarDecl* owner, const Location& site, bool shared) {
    for (auto it = st_.held.rbegin(); it != st_.held.rend(); ++it) {
      if (it->owner == nullptr && it->lock.object == l.object) {
        it->owner = owner;
        return;
      }
    }
    st_.held.push_back(Entry{HeldLock{l.name, l.object, site, shared}, owner});  // locked where we cannot see
  }

  void release(const LockName& l) {
    for (int pass = 0; pass < 2; ++pass) {  // the same expression first, then the same lock
      for (auto it = st_.held.rbegin(); it != st_.held.rend(); ++it) {
        if (pass == 0 ? it->lock.object == l.object : it->lock.lock == l.name) {
          st_.held.erase(std::next(it).base());
          return;
        }
      }
    }
  }

  void release_owned(const VarDecl* v) {
    st_.held.erase(std::remove_if(st_.held.begin(), st_.held.end(), [&](const Entry& e) { return e.owner == v; }),
                   st_.held.end());
  }

  void call(const FunctionDecl* callee, SourceLocation loc) {
    if (sm_.isInSystemHeader(callee->getLocation())) return;  // the standard library takes none of our locks
    Call c;
    c.callee = function_key(callee);
    if (c.callee.empty()) return;
    c.site = here(loc);
    for (const Entry& e : st_.held) c.held.push_back(e.lock);
    out_.calls.push_back(std::move(c));
  }

  const std::string& fn_name_;
  ASTContext& ctx_;
  const SourceManager& sm_;
  UnitFacts& unit_;
  FunctionFacts& out_;
  State st_;
  std::vector<std::vector<const VarDecl*>> scopes_;
  std::vector<std::vector<Entry>> switch_entry_;
  std::map<const VarDecl*, GuardInfo> guards_;
};

}  // namespace

FunctionFacts walk_function(const clang::FunctionDecl* fn, const std::string& key, const std::string& file,
                            clang::ASTContext& ctx, UnitFacts& unit) {
  FunctionFacts facts;
  facts.key = key;
  facts.name = function_display_name(fn);
  facts.file = file;
  Walker w(ctx, unit, facts);
  w.walk(fn->getBody());
  return facts;
}

}  // namespace lockgraph::scan
