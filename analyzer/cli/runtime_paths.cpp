// preload_library_path(), scan_plugin_path(); see runtime_paths.hpp.
#include "runtime_paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace lockgraph::cli {

namespace {

std::string find_library(const char* env_name, const char* from_bin, const char* in_build_tree) {
  namespace fs = std::filesystem;
  const char* env = std::getenv(env_name);
  if (env != nullptr && *env != '\0') return access(env, R_OK) == 0 ? fs::absolute(env).string() : "";
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = (self.parent_path() / from_bin).lexically_normal();
    if (access(installed.c_str(), R_OK) == 0) return installed.string();
  }
  if (in_build_tree != nullptr && access(in_build_tree, R_OK) == 0) return in_build_tree;
  return "";
}

}  // namespace

std::string preload_library_path() {
  return find_library("LOCKGRAPH_PRELOAD", LOCKGRAPH_RT_FROM_BIN, LOCKGRAPH_BUILD_RT);
}

std::string scan_plugin_path() {
  return find_library("LOCKGRAPH_SCAN_PLUGIN", LOCKGRAPH_SCAN_FROM_BIN, LOCKGRAPH_BUILD_SCAN);
}

}  // namespace lockgraph::cli
