// Where the CLI finds the runtime library it preloads (`run`) and links (`config`).
//
// Order: $LOCKGRAPH_PRELOAD; then ../lib/liblockgraph_rt.so beside the lockgraph executable (the
// installed layout); then the build tree's library (a build-time constant). "" when none exists.
#pragma once

#include <string>

namespace lockgraph::cli {

std::string preload_library_path();

}  // namespace lockgraph::cli
