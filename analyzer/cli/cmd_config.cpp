// `lockgraph config --cxxflags | --ldflags | --preload`: the compile and link lines of the
// instrumentation mode, in the manner of llvm-config (docs/unmodified-programs.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "commands.hpp"
#include "runtime_paths.hpp"

namespace lockgraph::cli {
namespace {

struct ConfigOptions {
  bool cxxflags = false;
  bool ldflags = false;
  bool preload = false;
  std::string compiler;
};

bool is_clang(const std::string& compiler) {
  return std::filesystem::path(compiler).filename().string().find("clang") != std::string::npos;
}

int print_config(const ConfigOptions& o) {
  std::string compiler = o.compiler;
  if (compiler.empty()) {
    const char* cxx = std::getenv("CXX");
    compiler = cxx != nullptr && *cxx != '\0' ? cxx : "c++";
  }
  std::string lib = preload_library_path();
  if ((o.ldflags || o.preload) && lib.empty()) {
    return fail("cannot find liblockgraph_rt.so next to lockgraph (set LOCKGRAPH_PRELOAD)");
  }
  if (!o.cxxflags && !o.ldflags && !o.preload) return fail("say what to print: --cxxflags, --ldflags or --preload");
  std::string dir = std::filesystem::path(lib).parent_path().string();
  std::string out;
  // The compiler's ThreadSanitizer instrumentation, without its runtime: our runtime provides
  // the __tsan_* hooks. -g gives the analyzer file:line and variable names.
  if (o.cxxflags) out += "-fsanitize=thread -g";
  if (o.ldflags) {
    if (!out.empty()) out += ' ';
    // clang: keep -fsanitize=thread at link time but do not link its runtime; g++: simply do not
    // pass -fsanitize=thread when linking (that is what would pull in libtsan).
    if (is_clang(compiler)) out += "-fsanitize=thread -fno-sanitize-link-runtime ";
    out += "-L" + dir + " -Wl,-rpath," + dir + " -llockgraph_rt -pthread";
  }
  if (o.preload) {
    if (!out.empty()) out += ' ';
    out += lib;
  }
  std::printf("%s\n", out.c_str());
  return kExitOk;
}

}  // namespace

Runner add_config(CLI::App& app) {
  auto o = std::make_shared<ConfigOptions>();
  CLI::App* cmd = app.add_subcommand("config", "Print the compile and link flags that record memory accesses.");
  cmd->footer(
      "Build a program so that lockgraph sees its memory accesses (data races):\n"
      "  $CXX $(lockgraph config --cxxflags) -c prog.cpp\n"
      "  $CXX prog.o $(lockgraph config --ldflags) -o prog\n"
      "  lockgraph run -- ./prog\n"
      "The flags depend on the compiler ($CXX, or --compiler): g++ links without -fsanitize=thread,\n"
      "clang++ links with -fsanitize=thread -fno-sanitize-link-runtime. CMake: lockgraph_instrument(target).\n\n"
      "Exit codes: 0 printed, 2 usage error or runtime library not found.");
  cmd->add_flag("--cxxflags", o->cxxflags, "Compile flags");
  cmd->add_flag("--ldflags", o->ldflags, "Link flags");
  cmd->add_flag("--preload", o->preload, "Path of the runtime library (what `run` puts in LD_PRELOAD)");
  cmd->add_option("--compiler", o->compiler, "The C++ compiler the flags are for (default: $CXX, else c++)");
  return [o] { return print_config(*o); };
}

}  // namespace lockgraph::cli
