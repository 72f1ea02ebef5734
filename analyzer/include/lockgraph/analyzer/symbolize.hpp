// Symbolization of pc sites (return addresses recorded where no file:line was available: thread
// creation, pool submission, shared<T> operators) into file:line and function.
//
// Uses LLVM's llvm-symbolizer (Debian package llvm-14) as a subprocess, one per module with all
// its addresses on stdin; the frame reported is the innermost one outside system headers, so a
// std::vector::emplace_back that created a thread is shown at the caller's line. Set
// LOCKGRAPH_SYMBOLIZER to another symbolizer binary, or to "none" to keep module+offset.
// Cost: one process per module per analysis. Missing tool or debug info: sites stay as they were.
#pragma once

#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::analysis {

void symbolize_pc_sites(TraceFile& file);

}  // namespace lockgraph::analysis
