// dot_to_svg(): Graphviz (libgvc, the `dot` layout engine) run in-process. Graphviz reports
// problems through its own error channel; they are collected into *error instead of stderr.
#include <graphviz/gvc.h>

#include <cstring>

#include "lockgraph/analyzer/report.hpp"

namespace lockgraph::analysis {
namespace {

std::string* g_errors = nullptr;  // one layout at a time (the CLI is single-threaded here)

int collect_error(char* message) {
  if (g_errors != nullptr) *g_errors += message;
  return 0;
}

}  // namespace

bool dot_to_svg(const std::string& dot, std::string* svg, std::string* error) {
  std::string errors;
  g_errors = &errors;
  agseterr(AGERR);
  agseterrf(collect_error);
  GVC_t* gvc = gvContext();
  Agraph_t* g = agmemread(dot.c_str());
  bool ok = false;
  if (g != nullptr && gvLayout(gvc, g, "dot") == 0) {
    char* data = nullptr;
    unsigned int len = 0;
    if (gvRenderData(gvc, g, "svg", &data, &len) == 0 && data != nullptr) {
      svg->assign(data, len);
      ok = true;
    }
    gvFreeRenderData(data);
    gvFreeLayout(gvc, g);
  }
  if (g != nullptr) agclose(g);
  gvFreeContext(gvc);
  agseterrf(nullptr);
  g_errors = nullptr;
  if (!ok) {
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' ')) errors.pop_back();
    *error = "Graphviz could not draw the lock-order graph" + (errors.empty() ? std::string() : ": " + errors);
  }
  return ok;
}

}  // namespace lockgraph::analysis
