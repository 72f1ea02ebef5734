// Test helper: analyze a text-form trace written inline in the test.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "lockgraph/analyzer/analysis.hpp"

namespace lockgraph::testing {

// `observer` sees every event with the model as it is after the event.
inline analysis::AnalysisResult analyze_text(const std::string& text, const analysis::EventObserver& observer = {}) {
  std::istringstream in(text);
  analysis::TextTrace t;
  analysis::Problem err;
  bool ok = analysis::parse_text_trace(in, "test", &t, &err);
  EXPECT_TRUE(ok) << err.message();
  auto set = analysis::TraceSet::from_text(std::move(t), "test");
  return analysis::analyze(*set, {}, observer);
}

inline std::vector<const analysis::Finding*> of_kind(const analysis::AnalysisResult& r, std::string_view kind) {
  std::vector<const analysis::Finding*> out;
  for (const auto& f : r.findings) {
    if (f.kind == kind) out.push_back(&f);
  }
  return out;
}

// A temporary file name, removed at destruction.
struct ScratchFile {
  std::string path;
  ScratchFile() {
    char name[] = "/tmp/lockgraph-test-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
    path = name;
  }
  ~ScratchFile() { unlink(path.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
};

inline std::string kinds(const analysis::AnalysisResult& r) {
  std::string s;
  for (const auto& f : r.findings) s += (s.empty() ? "" : ",") + f.kind;
  return s.empty() ? "(none)" : s;
}

}  // namespace lockgraph::testing
