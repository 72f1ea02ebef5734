// The per-thread timeline of lock holds and waits, as inline SVG (see html_parts.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "html_parts.hpp"

namespace lockgraph::analysis {
namespace {

constexpr int kLabelWidth = 230;
constexpr int kPlotWidth = 900;
constexpr int kRowHeight = 24;
constexpr int kTop = 28;

// Distinct, colour-blind-friendly hues (Okabe & Ito, 2008), then a golden-angle walk.
std::string lock_colour(std::size_t i) {
  static const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#D55E00", "#999999"};
  if (i < std::size(kPalette)) return kPalette[i];
  char b[32];
  std::snprintf(b, sizeof b, "hsl(%d,55%%,55%%)", int(std::fmod(double(i) * 137.508, 360.0)));
  return b;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string duration_text(std::uint64_t ns) {
  char b[48];
  if (ns < 1000) {
    std::snprintf(b, sizeof b, "%llu ns", static_cast<unsigned long long>(ns));
  } else if (ns < 1000000) {
    std::snprintf(b, sizeof b, "%.1f µs", double(ns) / 1e3);
  } else if (ns < 1000000000) {
    std::snprintf(b, sizeof b, "%.2f ms", double(ns) / 1e6);
  } else {
    std::snprintf(b, sizeof b, "%.2f s", double(ns) / 1e9);
  }
  return b;
}

std::string render_timeline_svg(const Timeline& t) {
  if (t.spans.empty() || t.threads.empty() || t.end_ns <= t.begin_ns) return "";
  const double span_ns = double(t.end_ns - t.begin_ns);
  auto x = [&](std::uint64_t ns) {
    double v = ns <= t.begin_ns ? 0.0 : double(ns - t.begin_ns) / span_ns;
    return kLabelWidth + std::min(1.0, v) * kPlotWidth;
  };
  const int rows = int(t.threads.size());
  const int legend_rows = int((t.locks.size() + 3) / 4) + 1;
  const int height = kTop + rows * kRowHeight + 30 + legend_rows * 18;
  const int width = kLabelWidth + kPlotWidth + 20;
  std::ostringstream o;
  o << "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\" aria-label=\"lock timeline\">\n"
    << "<defs><pattern id=\"waiting\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
       "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fdd\"/>"
       "<rect width=\"3\" height=\"6\" fill=\"#d33\"/></pattern></defs>\n";
  // Time axis: five ticks.
  for (int i = 0; i <= 5; ++i) {
    double px = kLabelWidth + kPlotWidth * i / 5.0;
    o << "<line x1=\"" << num(px) << "\" y1=\"" << kTop - 6 << "\" x2=\"" << num(px) << "\" y2=\""
      << kTop + rows * kRowHeight << "\" stroke=\"#ddd\"/>"
      << "<text x=\"" << num(px) << "\" y=\"" << kTop - 10 << "\" font-size=\"11\" text-anchor=\"middle\">+"
      << html_escape(duration_text(std::uint64_t(span_ns * i / 5.0))) << "</text>\n";
  }
  for (int r = 0; r < rows; ++r) {
    const TimelineThread& th = t.threads[r];
    int y = kTop + r * kRowHeight;
    o << "<g class=\"thread-row\" data-thread=\"" << html_escape(th.label) << "\">"
      << "<text x=\"4\" y=\"" << y + 16 << "\" font-size=\"12\">" << html_escape(th.label) << "</text>"
      << "<rect x=\"" << num(x(th.first_ns)) << "\" y=\"" << y + 10 << "\" width=\""
      << num(std::max(1.0, x(th.last_ns) - x(th.first_ns))) << "\" height=\"2\" fill=\"#bbb\"/></g>\n";
  }
  for (const TimelineSpan& s : t.spans) {
    int y = kTop + int(s.thread) * kRowHeight;
    double x0 = x(s.begin_ns), x1 = x(s.end_ns);
    const std::string& thread = t.threads[s.thread].label;
    const std::string& lock = t.locks[s.lock];
    std::string tip = thread + (s.wait ? " waits for " : " holds ") + lock + " for " +
                      duration_text(s.end_ns - s.begin_ns) + " from +" + duration_text(s.begin_ns - std::min(s.begin_ns, t.begin_ns));
    o << "<rect class=\"" << (s.wait ? "wait" : "hold") << "\" x=\"" << num(x0) << "\" y=\"" << y + (s.wait ? 2 : 5)
      << "\" width=\"" << num(std::max(1.5, x1 - x0)) << "\" height=\"" << (s.wait ? 20 : 14) << "\" fill=\""
      << (s.wait ? std::string("url(#waiting)") : lock_colour(s.lock)) << "\"" << (s.wait ? " opacity=\"0.85\"" : "")
      << "><title>" << html_escape(tip) << "</title></rect>\n";
  }
  // Legend: waits, then one swatch per lock.
  int ly = kTop + rows * kRowHeight + 22;
  o << "<rect x=\"" << kLabelWidth << "\" y=\"" << ly - 10 << "\" width=\"14\" height=\"12\" fill=\"url(#waiting)\"/>"
    << "<text x=\"" << kLabelWidth + 18 << "\" y=\"" << ly << "\" font-size=\"11\">waiting for a lock</text>\n";
  for (std::size_t i = 0; i < t.locks.size(); ++i) {
    std::size_t slot = i + 1;
    double lx = kLabelWidth + double(slot % 4) * (kPlotWidth / 4.0);
    int row_y = ly + int(slot / 4) * 18;
    o << "<rect x=\"" << num(lx) << "\" y=\"" << row_y - 10 << "\" width=\"14\" height=\"12\" fill=\"" << lock_colour(i)
      << "\"/><text x=\"" << num(lx + 18) << "\" y=\"" << row_y << "\" font-size=\"11\">holds "
      << html_escape(t.locks[i]) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace lockgraph::analysis
