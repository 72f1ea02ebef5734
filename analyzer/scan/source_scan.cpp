// The LibTooling driver of `lockgraph scan` (see source_scan.hpp).
#include "source_scan.hpp"

#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "analysis_location.hpp"
#include "body_walker.hpp"
#include "lock_expressions.hpp"
#include "static_graph_builder.hpp"

namespace lockgraph::scan {
namespace {

using namespace clang;
using namespace clang::ast_matchers;

// Function bodies already walked, across all translation units and threads.
class Seen {
 public:
  bool first(const std::string& key) {
    std::lock_guard<std::mutex> g(m_);
    return keys_.insert(key).second;
  }

 private:
  std::mutex m_;
  std::set<std::string> keys_;
};

class FunctionCollector : public MatchFinder::MatchCallback {
 public:
  FunctionCollector(Seen& seen, UnitFacts& unit) : seen_(seen), unit_(unit) {}
  void run(const MatchFinder::MatchResult& r) override {
    const auto* fn = r.Nodes.getNodeAs<FunctionDecl>("fn");
    if (fn == nullptr || fn->isDependentContext() || fn->getBody() == nullptr) return;  // templates: their instantiations
    std::string key = function_key(fn);
    if (key.empty()) return;
    // Once per definition: a header's inline function is walked in the first file including it.
    std::string file = make_location(*r.SourceManager, fn->getLocation(), "").file;
    if (!seen_.first(key + "\n" + file)) return;
    FunctionFacts f = walk_function(fn, key, file, *r.Context, unit_);
    if (!f.acquisitions.empty() || !f.calls.empty()) unit_.functions.push_back(std::move(f));
  }

 private:
  Seen& seen_;
  UnitFacts& unit_;
};

// Keeps the first error of a translation unit instead of printing Clang's diagnostics.
class FirstError : public DiagnosticConsumer {
 public:
  void HandleDiagnostic(DiagnosticsEngine::Level level, const Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < DiagnosticsEngine::Error || !message.empty()) return;
    llvm::SmallString<160> text;
    info.FormatDiagnostic(text);
    message = text.str().str();
    if (info.hasSourceManager() && info.getLocation().isValid()) {
      PresumedLoc p = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (p.isValid()) message = std::string(p.getFilename()) + ":" + std::to_string(p.getLine()) + ": " + message;
    }
  }
  std::string message;
};

// g++'s warning flags clang does not know, -Werror and output options do not matter to a scan.
tooling::ArgumentsAdjuster scan_adjuster(const std::vector<std::string>& extra) {
  tooling::ArgumentsAdjuster strip = [](const tooling::CommandLineArguments& args, llvm::StringRef) {
    tooling::CommandLineArguments out;
    for (const std::string& a : args) {
      if (a.rfind("-Werror", 0) == 0 || a.rfind("-fsanitize", 0) == 0) continue;
      out.push_back(a);
    }
    return out;
  };
  std::vector<std::string> tail{"-w", "-resource-dir=" LOCKGRAPH_CLANG_RESOURCE_DIR};
  tail.insert(tail.end(), extra.begin(), extra.end());
  return tooling::combineAdjusters(
      tooling::combineAdjusters(tooling::getClangStripOutputAdjuster(), tooling::getClangSyntaxOnlyAdjuster()),
      tooling::combineAdjusters(strip, tooling::getInsertArgumentAdjuster(tail, tooling::ArgumentInsertPosition::END)));
}

}  // namespace

bool scan_sources(const ScanOptions& o, analysis::StaticGraph* out, std::string* error) {
  if (!llvm::sys::fs::is_directory(LOCKGRAPH_CLANG_RESOURCE_DIR)) {
    *error = std::string("Clang's resource directory ") + LOCKGRAPH_CLANG_RESOURCE_DIR +
             " is missing (run scripts/install-deps.sh: libclang-14-dev)";
    return false;
  }
  std::string why;
  std::unique_ptr<tooling::CompilationDatabase> db = tooling::CompilationDatabase::loadFromDirectory(o.build_dir, why);
  if (!db) {
    std::replace(why.begin(), why.end(), '\n', ' ');
    while (!why.empty() && why.back() == ' ') why.pop_back();
    *error = "no compile_commands.json in " + o.build_dir +
             " (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON, or generate one with bear): " + why;
    return false;
  }
  std::vector<std::string> files;
  if (o.files.empty()) {
    files = db->getAllFiles();
  } else {
    std::set<std::string> known;
    for (const std::string& f : db->getAllFiles()) known.insert(f);
    for (const std::string& f : o.files) {
      llvm::SmallString<256> abs(f);
      llvm::sys::fs::make_absolute(abs);
      llvm::sys::path::remove_dots(abs, true);
      std::string path = abs.str().str();
      if (!llvm::sys::fs::exists(path)) {
        *error = f + ": no such file";
        return false;
      }
      if (!known.count(path)) {
        *error = f + ": not in " + o.build_dir + "/compile_commands.json (only compiled files can be scanned)";
        return false;
      }
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());

  Seen seen;
  std::mutex merge_m;
  std::vector<FunctionFacts> functions;
  std::map<std::string, LockDeclaration> locks;
  std::map<std::string, std::string> problems;  // file -> first error
  std::atomic<std::size_t> next{0}, done{0};
  const tooling::ArgumentsAdjuster adjust = scan_adjuster(o.extra_args);
  auto worker = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      UnitFacts unit;
      FunctionCollector collector(seen, unit);
      MatchFinder finder;
      finder.addMatcher(functionDecl(isDefinition(), unless(isExpansionInSystemHeader())).bind("fn"), &collector);
      tooling::ClangTool tool(*db, {files[i]});
      tool.appendArgumentsAdjuster(adjust);
      FirstError diagnostics;
      tool.setDiagnosticConsumer(&diagnostics);
      int rc = tool.run(tooling::newFrontendActionFactory(&finder).get());
      std::lock_guard<std::mutex> g(merge_m);
      for (FunctionFacts& f : unit.functions) functions.push_back(std::move(f));
      for (auto& [name, d] : unit.locks) locks.emplace(name, std::move(d));
      if (rc != 0) problems[files[i]] = diagnostics.message.empty() ? "could not be parsed" : diagnostics.message;
      if (o.progress) o.progress(++done, files.size());
    }
  };
  unsigned jobs = o.jobs ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = std::min<unsigned>(jobs, static_cast<unsigned>(std::max<std::size_t>(1, files.size())));
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  // Parallel parsing finishes in any order; the graph must not depend on it.
  std::sort(functions.begin(), functions.end(),
            [](const FunctionFacts& a, const FunctionFacts& b) { return std::tie(a.key, a.file) < std::tie(b.key, b.file); });
  *out = build_static_graph(functions, locks, o.call_depth);
  out->build_dir = o.build_dir;
  out->files = files.size();
  for (const auto& [file, message] : problems) out->problems.push_back(file + ": " + message);
  return true;
}

}  // namespace lockgraph::scan
