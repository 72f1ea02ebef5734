// liblockgraph_scan.so: the static scan as a plugin the CLI loads only for `lockgraph scan`.
// Clang's and LLVM's libraries are ~160 MB of shared code whose loading and relocation cost every
// `lockgraph` command 0.1-0.2 s when linked in; only the scan needs them.
// Contract: built from the same sources as the CLI (the C++ types cross the boundary as they are);
// the CLI checks the entry point's name, which carries the interface's version.
#include "scan_plugin.hpp"

#include "source_scan.hpp"

extern "C" [[gnu::visibility("default")]] bool lockgraph_scan_sources_v1(const lockgraph::scan::ScanOptions* options,
                                                                       lockgraph::analysis::StaticGraph* out,
                                                                       std::string* error) {
  return lockgraph::scan::scan_sources(*options, out, error);
}
