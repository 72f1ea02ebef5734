// dot_to_svg(): Graphviz (libgvc, the `dot` layout engine) run in-process, loaded at the first
// drawing (system_library.hpp). Graphviz reports problems through its own error channel; they are
// collected into *error instead of stderr.
#include <graphviz/gvc.h>

#include <cstring>

#include "lockgraph/analyzer/report.hpp"
#include "system_library.hpp"

namespace lockgraph::analysis {
namespace {

#define LOCKGRAPH_GRAPHVIZ_FUNCTIONS(X) \
  X(agseterr) X(agseterrf) X(agmemread) X(agclose) X(gvContext) X(gvLayout) X(gvRenderData) X(gvFreeRenderData) \
  X(gvFreeLayout) X(gvFreeContext)
LOCKGRAPH_LIBRARY_API(GraphvizApi, LOCKGRAPH_GRAPHVIZ_FUNCTIONS)

const SystemLibrary<GraphvizApi>& graphviz() {
  static const SystemLibrary<GraphvizApi> library({LOCKGRAPH_LIBGVC_SONAME, LOCKGRAPH_LIBCGRAPH_SONAME}, "libgvc6");
  return library;
}

std::string* g_errors = nullptr;  // one layout at a time (the CLI is single-threaded here)

int collect_error(char* message) {
  if (g_errors != nullptr) *g_errors += message;
  return 0;
}

}  // namespace

bool dot_to_svg(const std::string& dot, std::string* svg, std::string* error) {
  const GraphvizApi* gv = graphviz().api();
  if (gv == nullptr) {
    *error = "cannot draw the lock-order graph: " + graphviz().error();
    return false;
  }
  std::string errors;
  g_errors = &errors;
  gv->agseterr(AGERR);
  gv->agseterrf(collect_error);
  GVC_t* gvc = gv->gvContext();
  Agraph_t* g = gv->agmemread(dot.c_str());
  bool ok = false;
  if (g != nullptr && gv->gvLayout(gvc, g, "dot") == 0) {
    char* data = nullptr;
    unsigned int len = 0;
    if (gv->gvRenderData(gvc, g, "svg", &data, &len) == 0 && data != nullptr) {
      svg->assign(data, len);
      ok = true;
    }
    gv->gvFreeRenderData(data);
    gv->gvFreeLayout(gvc, g);
  }
  if (g != nullptr) gv->agclose(g);
  gv->gvFreeContext(gvc);
  gv->agseterrf(nullptr);
  g_errors = nullptr;
  if (!ok) {
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' ')) errors.pop_back();
    *error = "Graphviz could not draw the lock-order graph" + (errors.empty() ? std::string() : ": " + errors);
  }
  return ok;
}

}  // namespace lockgraph::analysis
