// Internal (Clang): a source location as the reports' Location (real path of the expansion
// site's file, its line, the enclosing function's display name).
#pragma once

#include <clang/Basic/SourceManager.h>

#include <string>

#include "lockgraph/analyzer/finding.hpp"

namespace lockgraph::scan {

inline analysis::Location make_location(const clang::SourceManager& sm, clang::SourceLocation loc, const std::string& function) {
  analysis::Location l;
  l.function = function;
  if (loc.isInvalid()) return l;
  clang::SourceLocation at = sm.getExpansionLoc(loc);
  l.line = sm.getExpansionLineNumber(at);
  if (const clang::FileEntry* f = sm.getFileEntryForID(sm.getFileID(at))) {
    llvm::StringRef real = f->tryGetRealPathName();
    l.file = real.empty() ? f->getName().str() : real.str();
  } else {
    l.file = sm.getPresumedLoc(at).getFilename();
  }
  return l;
}

}  // namespace lockgraph::scan
