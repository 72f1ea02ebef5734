// Internal: pieces of the HTML report that have a life of their own — escaping, durations and the
// per-thread timeline drawn as SVG (report_timeline.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lockgraph/analyzer/timeline.hpp"

namespace lockgraph::analysis {

// Escapes &, <, >, " and ' for text and attribute values.
std::string html_escape(std::string_view text);
// "850 ns", "12.4 µs", "3.07 ms", "1.25 s".
std::string duration_text(std::uint64_t ns);
// One row per thread, a bar per timed hold (coloured per lock) and wait (red, hatched), a time
// axis and a legend; each bar has a tooltip. Returns "" when there is nothing timed to draw.
std::string render_timeline_svg(const Timeline& timeline);

}  // namespace lockgraph::analysis
