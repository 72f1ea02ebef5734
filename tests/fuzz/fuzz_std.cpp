// libFuzzer target: RAPID STD input — the reader, then hb, shb and wcp over what it accepted,
// and the text/JSON/SARIF reports. Every input is rejected with a line number or analyzed: no
// crash, no sanitizer report, no hang. Seeds: `lockgraph generate` traces and hand-written ones.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lockgraph/analyzer/gate.hpp"
#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lockgraph::analysis;
  StdTrace trace;
  Problem error;
  StdTrace::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.std", &trace, &error);
  // Vector clocks cost O(threads) per synchronization: thousands of one-event threads make a
  // slow input, not a bug. The cost is documented; the fuzzer hunts crashes.
  if (trace.threads.size() > 1024) return 0;
  std::size_t n = 0;
  for (RaceAnalysis a : {RaceAnalysis::kHb, RaceAnalysis::kShb, RaceAnalysis::kWcp}) {
    AnalysisResult result = predict_races(trace, a, "fuzz.std");
    GateConfig config;
    config.fail_on = default_fail_on();
    GateOutcome gate = apply_gate(result.findings, config);
    RenderContext ctx{result, gate, 1, trace.threads.size(), false, ""};
    n += render_text(ctx).size() + render_json(ctx).size() + render_sarif(ctx).size();
  }
  return n == 0 ? 1 : 0;
}
