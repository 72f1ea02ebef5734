// The entry point of liblockgraph_scan.so (scan_plugin.cpp), as the CLI looks it up with dlsym.
#pragma once

#include <string>

namespace lockgraph::scan {
struct ScanOptions;
}
namespace lockgraph::analysis {
struct StaticGraph;
}

namespace lockgraph::scan {
inline constexpr const char* kScanEntryPoint = "lockgraph_scan_sources_v1";
using ScanEntryPoint = bool (*)(const ScanOptions*, analysis::StaticGraph*, std::string*);
}  // namespace lockgraph::scan
