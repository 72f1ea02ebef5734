// preload_library_path(); see runtime_paths.hpp.
#include "runtime_paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace lockgraph::cli {

std::string preload_library_path() {
  namespace fs = std::filesystem;
  const char* env = std::getenv("LOCKGRAPH_PRELOAD");
  if (env != nullptr && *env != '\0') return access(env, R_OK) == 0 ? fs::absolute(env).string() : "";
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = (self.parent_path() / LOCKGRAPH_RT_FROM_BIN).lexically_normal();
    if (access(installed.c_str(), R_OK) == 0) return installed.string();
  }
#ifdef LOCKGRAPH_BUILD_RT
  if (access(LOCKGRAPH_BUILD_RT, R_OK) == 0) return LOCKGRAPH_BUILD_RT;
#endif
  return "";
}

}  // namespace lockgraph::cli
