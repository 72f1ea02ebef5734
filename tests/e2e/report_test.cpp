// The picture reports, end to end: a real demo traced for real, the HTML report rendered by
// headless Chromium (Debian's `chromium`: the page's script runs, the cycle, the graph and the
// timeline are in the rendered DOM, nothing is logged to the console, nothing is fetched, and a
// screenshot is written), and `lockgraph graph --svg` drawn by Graphviz.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "subprocess.hpp"

namespace lockgraph::testing {
namespace {

const std::string kCli = LOCKGRAPH_CLI;
const std::string kDemos = LOCKGRAPH_DEMOS;

std::string chromium() {
  const char* env = std::getenv("LOCKGRAPH_CHROMIUM");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
}

// The deadlock demo's hanging mode: a real AB/BA deadlock stopped by the watchdog, with every
// hold and wait timed so that the timeline has both.
std::string trace_hanging_deadlock(const ScratchDir& dir) {
  std::string trace = dir / "trace";
  RunResult p = run_program({kDemos + "/deadlock", "--mode", "hang"},
                            {"LOCKGRAPH_TRACE_DIR=" + trace, "LOCKGRAPH_TIMING=all"});
  EXPECT_EQ(p.exit_code, 86) << p.err;  // the watchdog's exit status
  return trace;
}

std::vector<std::string> chromium_flags(const ScratchDir& dir) {
  return {chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
          "--user-data-dir=" + dir / "chromium-profile", "--enable-logging=stderr", "--v=0"};
}

TEST(HtmlReport, RendersInHeadlessChromiumWithCycleGraphAndTimeline) {
  ScratchDir dir;
  std::string trace = trace_hanging_deadlock(dir);
  std::string html = dir / "report.html";
  RunResult a = run_program({kCli, "analyze", trace, "--format", "html", "--output", html});
  ASSERT_EQ(a.exit_code, 1) << a.err;  // the deadlock fails the gate
  std::string page = read_text(html);

  // Self-contained: no external scripts, styles, images or links.
  std::smatch m;
  EXPECT_FALSE(std::regex_search(page, m, std::regex(R"((src|href)\s*=\s*"(?!#|data:)[^"]*")")))
      << "external reference: " << m.str();
  EXPECT_EQ(page.find("<link"), std::string::npos);

  auto flags = chromium_flags(dir);
  flags.push_back("--dump-dom");
  flags.push_back("file://" + html);
  RunResult dom = run_program(flags);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  const std::string& d = dom.out;
  EXPECT_NE(d.find("data-ready=\"yes\""), std::string::npos) << "the page's script did not run to the end";
  // Nothing on the console: no script errors, no warnings, no logs.
  EXPECT_EQ(dom.err.find(":CONSOLE"), std::string::npos) << dom.err;
  // Both findings, with the cycle drawn and the source line of each wait.
  EXPECT_EQ(count_occurrences(d, "class=\"finding error\" data-kind=\"deadlock_actual\""), 1u);
  EXPECT_EQ(count_occurrences(d, "class=\"finding error\" data-kind=\"deadlock_potential\""), 1u);
  EXPECT_GE(count_occurrences(d, "<b>A</b> → <b>B</b> → <b>A</b>"), 2u) << "cycle A -> B -> A";
  const std::string demo = std::string(LOCKGRAPH_SOURCE_DIR) + "/demos/deadlock.cpp";
  const int wait_a = source_line(demo, "A.lock();", "void func_two(");  // thread 1, holding B
  const int wait_b = source_line(demo, "B.lock();", "void func_one(");  // thread 2, holding A
  EXPECT_NE(d.find("<span class=\"hit\"><i>" + std::to_string(wait_a) + "</i>  A.lock();</span>"), std::string::npos)
      << "source of the wait for A";
  EXPECT_NE(d.find("<span class=\"hit\"><i>" + std::to_string(wait_b) + "</i>  B.lock();</span>"), std::string::npos)
      << "source of the wait for B";
  // The lock-order graph (Graphviz SVG): nodes A and B, both edges of the cycle red.
  std::size_t graph = d.find("<div class=\"graph\"><svg");
  ASSERT_NE(graph, std::string::npos);
  std::string svg = d.substr(graph, d.find("</svg>", graph) - graph);
  EXPECT_NE(svg.find("<title>A</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>B</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>A-&gt;B</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>B-&gt;A</title>"), std::string::npos);
  EXPECT_GE(count_occurrences(svg, "stroke=\"red\""), 4u) << "2 nodes + 2 edges of the cycle";
  // The timeline: a row per worker, holds of both locks, and the two deadlocked threads' endless waits.
  std::size_t tl = d.find("<svg class=\"timeline\"");
  ASSERT_NE(tl, std::string::npos);
  std::string timeline = d.substr(tl, d.find("</svg>", tl) - tl);
  for (int w = 1; w <= 5; ++w) {
    EXPECT_NE(timeline.find("data-thread=\"thread " + std::to_string(w + 1) + " (worker " + std::to_string(w) + ")\""),
              std::string::npos) << "row of worker " << w;
  }
  EXPECT_NE(timeline.find("worker 1) holds B for"), std::string::npos);
  EXPECT_NE(timeline.find("worker 2) holds A for"), std::string::npos);
  EXPECT_NE(timeline.find("worker 1) waits for A for"), std::string::npos);
  EXPECT_NE(timeline.find("worker 2) waits for B for"), std::string::npos);
  // The contention table lists both locks.
  EXPECT_NE(d.find("<tr><td>A</td>"), std::string::npos);
  EXPECT_NE(d.find("<tr><td>B</td>"), std::string::npos);

  // A screenshot of the rendered page.
  std::string png = dir / "report.png";
  flags = chromium_flags(dir);
  flags.push_back("--window-size=1300,2600");
  flags.push_back("--screenshot=" + png);
  flags.push_back("file://" + html);
  RunResult shot = run_program(flags);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  std::string image = read_text(png);
  ASSERT_GT(image.size(), 20000u) << "a blank page compresses to a few kB";
  EXPECT_EQ(image.substr(1, 3), "PNG");
  // Kept for people: the build tree's copy shows what the report looks like.
  write_text(std::string(LOCKGRAPH_E2E_OUTPUT) + "/report-screenshot.png", image);
}

TEST(HtmlReport, ExtraSarifAndHtmlOutputsComeWithTheTextReport) {
  ScratchDir dir;
  std::string trace = trace_hanging_deadlock(dir);
  RunResult a = run_program({kCli, "analyze", trace, "--sarif", dir / "r.sarif", "--html", dir / "r.html"});
  EXPECT_EQ(a.exit_code, 1) << a.err;
  EXPECT_NE(a.out.find("FAILED: 2 findings fail the gate."), std::string::npos) << a.out;
  std::string sarif = read_text(dir / "r.sarif");
  EXPECT_EQ(count_occurrences(sarif, "\"ruleId\": \"deadlock_actual\""), 1u) << sarif.substr(0, 400);
  EXPECT_EQ(count_occurrences(sarif, "\"ruleId\": \"deadlock_potential\""), 1u);
  std::string html = read_text(dir / "r.html");
  EXPECT_NE(html.find("<h1>lockgraph: FAILED</h1>"), std::string::npos);
  EXPECT_EQ(html.find("\033["), std::string::npos) << "no terminal colours in files";
}

TEST(GraphCommand, DrawsTheLockOrderGraphAsSvgWithGraphviz) {
  ScratchDir dir;
  std::string trace = trace_hanging_deadlock(dir);
  RunResult g = run_program({kCli, "graph", trace, "--svg", dir / "g.svg", "--dot", dir / "g.dot"});
  std::string svg = read_text(dir / "g.svg");
  std::string dot = read_text(dir / "g.dot");
  // Everything the command produced goes with any failure below (CI keeps only the failure text).
  SCOPED_TRACE("stderr: " + g.err + "\nDOT:\n" + dot + "\nSVG (first 2000 bytes):\n" + svg.substr(0, 2000));
  ASSERT_EQ(g.exit_code, 0);
  EXPECT_NE(g.err.find("2 lock-order edges, 2 in reported cycles"), std::string::npos);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  // Graphviz writes '-' as a character reference in titles.
  EXPECT_NE(svg.find("<title>A&#45;&gt;B</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>B&#45;&gt;A</title>"), std::string::npos);
  EXPECT_NE(dot.find("\"A\" -> \"B\""), std::string::npos);
  EXPECT_NE(dot.find("\"B\" -> \"A\""), std::string::npos);

  RunResult bad = run_program({kCli, "graph", dir / "missing"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("lockgraph: error:"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace lockgraph::testing
