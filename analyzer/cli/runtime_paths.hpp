// Where the CLI finds the libraries it loads or hands to programs: the runtime it preloads (`run`)
// and links (`config`), and the static scanner it loads for `scan`.
//
// Order: the environment variable ($LOCKGRAPH_PRELOAD, $LOCKGRAPH_SCAN_PLUGIN); then the
// library in ../lib beside the lockgraph executable (the installed layout); then the build tree's
// library (a build-time constant). "" when none exists.
#pragma once

#include <string>

namespace lockgraph::cli {

std::string preload_library_path();
std::string scan_plugin_path();

}  // namespace lockgraph::cli
