// libFuzzer target: the text-form trace parser, then the whole analysis over what it accepted
// (replay, every detector, the reports). Every input is rejected with a precise error or
// analyzed: no crash, no sanitizer report, no hang. Seeds: `lockgraph dump` of real traces.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "lockgraph/analyzer/analysis.hpp"
#include "lockgraph/analyzer/gate.hpp"
#include "lockgraph/analyzer/report.hpp"
#include "lockgraph/analyzer/text_form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lockgraph::analysis;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  TextTrace text;
  Problem error;
  if (!parse_text_trace(in, "fuzz.txt", &text, &error)) return 0;
  auto set = TraceSet::from_text(std::move(text), "fuzz.txt");
  AnalysisResult result = analyze(*set);
  GateConfig config;
  config.fail_on = default_fail_on();
  GateOutcome gate = apply_gate(result.findings, config);
  RenderContext ctx{result, gate, set->processes().size(), result.threads.size(), false, ""};
  std::size_t n = render_text(ctx).size() + render_json(ctx).size() + render_sarif(ctx).size();
  return n == 0 ? 1 : 0;
}
