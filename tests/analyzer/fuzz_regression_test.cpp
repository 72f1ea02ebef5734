// Replays every input under tests/fuzz/regressions/ (inputs that once crashed or hung a fuzz
// target, plus hand-made hostile seeds) through the same code the fuzz targets run, in every
// build, without libFuzzer: each must be rejected with a reason or read/analyzed to the end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/deadlock_prediction.hpp"
#include "lockgraph/analyzer/gate.hpp"
#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/report.hpp"
#include "lockgraph/analyzer/std_convert.hpp"
#include "lockgraph/analyzer/text_form.hpp"
#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kRegressions = LOCKGRAPH_FUZZ_REGRESSIONS;

std::vector<fs::path> inputs(const char* target) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kRegressions / target)) {
    if (e.is_regular_file() && e.path().filename() != "README.md") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(FuzzRegressions, ReaderInputsAreRejectedWithAReasonOrReadToTheEnd) {
  auto files = inputs("reader");
  ASSERT_FALSE(files.empty());
  for (const fs::path& p : files) {
    std::string bytes = bytes_of(p);
    analysis::Problem error;
    auto file = analysis::TraceFile::from_bytes(p.filename(), bytes.data(), bytes.size(), &error);
    if (!file) {
      EXPECT_FALSE(error.reason.empty()) << p;
      continue;
    }
    std::uint64_t events = 0;
    for (std::uint32_t t : file->threads()) {
      auto c = file->cursor(t);
      for (analysis::Event e; c.next(&e);) ++events;
    }
    EXPECT_LE(events, file->record_count()) << p;
  }
}

TEST(FuzzRegressions, TextInputsAreRejectedWithALineOrAnalyzed) {
  auto files = inputs("text");
  ASSERT_FALSE(files.empty());
  for (const fs::path& p : files) {
    std::istringstream in(bytes_of(p));
    analysis::TextTrace text;
    analysis::Problem error;
    if (!analysis::parse_text_trace(in, p.filename(), &text, &error)) {
      EXPECT_TRUE(error.line && error.offset > 0) << p << ": " << error.message();
      continue;
    }
    auto set = analysis::TraceSet::from_text(std::move(text), p.filename());
    analysis::AnalysisResult r = analysis::analyze(*set);
    analysis::GateConfig config;
    config.fail_on = analysis::default_fail_on();
    analysis::GateOutcome gate = analysis::apply_gate(r.findings, config);
    analysis::RenderContext ctx{r, gate, set->processes().size(), r.threads.size(), false, ""};
    EXPECT_FALSE(analysis::render_json(ctx).empty()) << p;
    EXPECT_FALSE(analysis::render_html(ctx).empty()) << p;
  }
}

TEST(FuzzRegressions, StdInputsAreRejectedWithALineOrAnalyzedAndConvert) {
  auto files = inputs("std");
  ASSERT_FALSE(files.empty());
  for (const fs::path& p : files) {
    analysis::StdTrace trace;
    analysis::Problem error;
    if (!analysis::StdTrace::parse(bytes_of(p), p.filename(), &trace, &error)) {
      EXPECT_TRUE(error.line && error.offset > 0) << p << ": " << error.message();
    }
    for (auto a : {analysis::RaceAnalysis::kHb, analysis::RaceAnalysis::kShb, analysis::RaceAnalysis::kWcp,
                   analysis::RaceAnalysis::kSyncp, analysis::RaceAnalysis::kLockset}) {
      analysis::AnalysisResult r = analysis::predict_races(trace, a, p.filename());
      EXPECT_EQ(r.events, trace.events.size()) << p;
    }
    for (const analysis::Finding& f : analysis::predict_deadlocks(trace, p.filename()).findings) {
      EXPECT_TRUE(f.kind == analysis::kDeadlockPredicted || f.kind == analysis::kDeadlockPotential) << p;
    }
    std::ostringstream text;
    {
      analysis::StdToText convert(trace, p.filename(), text);
      for (const analysis::StdEvent& e : trace.events) convert.on_event(e);
    }
    std::istringstream back(text.str());
    analysis::TextTrace parsed;
    EXPECT_TRUE(analysis::parse_text_trace(back, "converted", &parsed, &error)) << p << ": " << error.message();
  }
}

}  // namespace
}  // namespace lockgraph::testing
