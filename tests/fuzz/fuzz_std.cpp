// libFuzzer target: RAPID STD input — the reader, then every race analysis (hb, shb, wcp, syncp,
// lockset) and the deadlock prediction over what it accepted, with the text/JSON/SARIF reports,
// and the conversion to lockgraph's text form, which must always read back. Every input is
// rejected with a line number or analyzed: no crash, no sanitizer report, no hang. Seeds:
// `lockgraph generate` traces and hand-written ones.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <sstream>

#include "lockgraph/analyzer/deadlock_prediction.hpp"
#include "lockgraph/analyzer/gate.hpp"
#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/report.hpp"
#include "lockgraph/analyzer/std_convert.hpp"
#include "lockgraph/analyzer/text_form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lockgraph::analysis;
  StdTrace trace;
  Problem error;
  StdTrace::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.std", &trace, &error);
  // Vector clocks cost O(threads) per synchronization: thousands of one-event threads make a
  // slow input, not a bug. The cost is documented; the fuzzer hunts crashes.
  if (trace.threads.size() > 1024) return 0;
  std::size_t n = 0;
  auto render = [&](const AnalysisResult& result) {
    GateConfig config;
    config.fail_on = default_fail_on();
    GateOutcome gate = apply_gate(result.findings, config);
    RenderContext ctx{result, gate, 1, trace.threads.size(), false, ""};
    n += render_text(ctx).size() + render_json(ctx).size() + render_sarif(ctx).size();
  };
  for (RaceAnalysis a : {RaceAnalysis::kHb, RaceAnalysis::kShb, RaceAnalysis::kWcp, RaceAnalysis::kSyncp,
                         RaceAnalysis::kLockset}) {
    render(predict_races(trace, a, "fuzz.std"));
  }
  render(predict_deadlocks(trace, "fuzz.std"));
  std::ostringstream text;
  {
    StdToText convert(trace, "fuzz.std", text);
    for (const StdEvent& e : trace.events) convert.on_event(e);
  }
  std::istringstream back(text.str());
  TextTrace parsed;
  if (!parse_text_trace(back, "converted", &parsed, &error)) __builtin_trap();  // our own output must read back
  return n == 0 ? 1 : 0;
}
