// `lockgraph scan -p BUILD [FILES...]`: the source's lock order, found by Clang without running
// anything; cycles are deadlock_static findings, reported and gated like any analysis.
#include <dlfcn.h>

#include <memory>

#include "commands.hpp"
#include "progress.hpp"
#include "runtime_paths.hpp"
#include "scan_plugin.hpp"
#include "source_scan.hpp"
#include "lockgraph/analyzer/static_graph.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

struct ScanCommand {
  AnalyzeOptions report;
  scan::ScanOptions scan;
  std::string save;
};

// The scanner lives in liblockgraph_scan.so (scan_plugin.cpp), loaded here only: Clang's and
// LLVM's libraries would cost every other command their loading time.
scan::ScanEntryPoint load_scanner(std::string* error) {
  const std::string path = scan_plugin_path();
  if (path.empty()) {
    *error = "the static scanner liblockgraph_scan.so was not found beside lockgraph (../lib) or in its build tree "
             "(set LOCKGRAPH_SCAN_PLUGIN to its path)";
    return nullptr;
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *error = "cannot load the static scanner " + path + ": " + dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<scan::ScanEntryPoint>(dlsym(handle, scan::kScanEntryPoint));
  if (entry == nullptr) *error = path + " is not this version's static scanner (no " + scan::kScanEntryPoint + ")";
  return entry;  // the library stays loaded until the process ends
}

int run_scan(ScanCommand& o) {
  GateConfig gate;
  std::string error;
  if (!load_gate(o.report, &gate, &error)) return fail(error);
  scan::ScanEntryPoint scan_sources = load_scanner(&error);
  if (scan_sources == nullptr) return fail(error);
  StaticGraph g;
  {
    ProgressBar bar;
    o.scan.progress = bar.callback();
    if (!scan_sources(&o.scan, &g, &error)) return fail(error);
  }
  for (const std::string& p : g.problems) warn(p + " (the rest of the file was scanned)");
  if (!o.save.empty() && !g.save(o.save, &error)) return fail(error);
  AnalysisResult result;
  result.findings = static_cycles(g);
  result.graph = g.lock_order_edges(result.findings);
  std::string scope = "scanned " + std::to_string(g.files) + (g.files == 1 ? " file" : " files") + " (" +
                      std::to_string(g.functions) + " functions with locks or calls, " + std::to_string(g.locks.size()) +
                      " locks, " + std::to_string(result.graph.size()) + " lock-order edges, calls followed " +
                      std::to_string(g.call_depth) + " deep) in " + o.scan.build_dir;
  return report_and_gate(o.report, gate, result, 1, scope);
}

}  // namespace

Runner add_scan(CLI::App& app) {
  auto o = std::make_shared<ScanCommand>();
  CLI::App* cmd = app.add_subcommand("scan", "Find lock-order cycles in the source with Clang, without running it.");
  cmd->footer(
      "Reads BUILD/compile_commands.json (CMake: -DCMAKE_EXPORT_COMPILE_COMMANDS=ON) and parses every file\n"
      "(or the FILES given) with Clang. Per function it finds acquisitions and releases: std::lock_guard,\n"
      "unique_lock (with unlock()/lock()/defer/try/adopt), scoped_lock and std::lock (deadlock-free among\n"
      "themselves), shared_lock, .lock()/.try_lock()/.unlock(), pthread_mutex_*/rwlock_*/spin_*, and the\n"
      "lockgraph wrappers. Calls made while a lock is held are followed --call-depth levels deep.\n"
      "Locks are named by source: ns::global, Class::member (all instances), function:param.\n\n"
      "Finding kind: deadlock_static (the cycle, both sites of every edge and the call chain).\n"
      "--save FILE keeps the graph for `lockgraph analyze --static FILE` and `lockgraph hierarchy FILE`.\n\n"
      "Exit codes: 0 nothing fails the gate, 1 findings fail the gate, 2 usage or input error.\n"
      "Files Clang cannot parse are named on stderr; what it recovered of them is still scanned.");
  cmd->add_option("-p,--build-dir", o->scan.build_dir, "Build directory holding compile_commands.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("files", o->scan.files, "Only these source files (default: every file in the database)");
  cmd->add_option("--call-depth", o->scan.call_depth, "Calls followed while a lock is held (default 4; 0: none)")
      ->check(CLI::Range(0u, 64u));
  cmd->add_option("--jobs,-j", o->scan.jobs, "Files parsed in parallel (default: one per CPU)")->check(CLI::Range(1u, 256u));
  cmd->add_option("--extra-arg", o->scan.extra_args, "Extra compiler argument for every file (repeatable), e.g. -DNDEBUG");
  cmd->add_option("--save", o->save, "Save the source's lock-order graph to FILE (JSON)");
  add_analyze_options(cmd, o->report);
  return [o] { return run_scan(*o); };
}

}  // namespace lockgraph::cli
