// SystemLibrary — a library of the system (Graphviz, elfutils) opened with dlopen() when a report
// first needs it, instead of being linked into every lockgraph process.
//
// Why: on the project's VM a page fault costs 5-20 us, and mapping and relocating Graphviz's seven
// libraries and elfutils' five cost ~3 ms per process start — paid by every `analyze` — while
// only the HTML report and `graph --svg` draw
// graphs, and only reports of instrumented programs read ELF symbols and DWARF.
//
//   #define GRAPHVIZ_FUNCTIONS(X) X(gvContext) X(agmemread)
//   LOCKGRAPH_LIBRARY_API(GraphvizApi, GRAPHVIZ_FUNCTIONS)   // struct with one pointer per function
//   static const SystemLibrary<GraphvizApi> gv({"libgvc.so.6"}, "libgvc6");
//   if (const GraphvizApi* api = gv.api()) api->gvContext();  // else gv.error() says why
//
// Contract: the sonames are opened in order (RTLD_NOW | RTLD_LOCAL), each function is looked up
// in them (and their dependencies) by its C name, with the type of its declaration in the
// library's header. api() is null when a library or a function is missing; error() is then one
// line naming the library and the Debian package that provides it. Thread-safe (a function-local
// static); the libraries stay loaded until the process ends.
// Cost: the dlopen()s, once per process, at the first api().
#pragma once

#include <dlfcn.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace lockgraph::analysis {

// Declares struct NAME with a member `decltype(&::f) f` per function f of LIST, and
// bind_library_api(NAME*, lookup), which fills them through lookup(name) -> void* and says whether
// every one was found (SystemLibrary<NAME> finds it by argument-dependent lookup).
#define LOCKGRAPH_LIBRARY_MEMBER(f) decltype(&::f) f = nullptr;
#define LOCKGRAPH_LIBRARY_BIND(f) ok = (api->f = reinterpret_cast<decltype(&::f)>(lookup(#f))) != nullptr && ok;
#define LOCKGRAPH_LIBRARY_API(NAME, LIST)                                  \
  struct NAME {                                                            \
    LIST(LOCKGRAPH_LIBRARY_MEMBER)                                         \
  };                                                                       \
  template <class Lookup>                                                  \
  bool bind_library_api(NAME* api, const Lookup& lookup) {                 \
    bool ok = true;                                                        \
    LIST(LOCKGRAPH_LIBRARY_BIND)                                           \
    return ok;                                                             \
  }

// Opens `sonames`; on success *handles holds them, else *error says which one failed and why.
bool open_system_libraries(std::initializer_list<const char*> sonames, const char* package,
                           std::vector<void*>* handles, std::string* error);
// The symbol `name` in the first of `handles` (or its dependencies) that has it, else nullptr.
void* find_system_symbol(const std::vector<void*>& handles, const char* name);

template <class Api>
class SystemLibrary {
 public:
  SystemLibrary(std::initializer_list<const char*> sonames, const char* package) {
    std::vector<void*> handles;
    if (!open_system_libraries(sonames, package, &handles, &error_)) return;
    std::string missing;
    auto lookup = [&](const char* name) {
      void* f = find_system_symbol(handles, name);
      if (f == nullptr && missing.empty()) missing = name;
      return f;
    };
    if (bind_library_api(&api_, lookup)) {
      ok_ = true;
    } else {
      error_ = std::string(*sonames.begin()) + " has no function " + missing + " (package " + package +
               " too old or too new for this build)";
    }
  }
  const Api* api() const noexcept { return ok_ ? &api_ : nullptr; }
  const std::string& error() const noexcept { return error_; }

 private:
  Api api_{};
  bool ok_ = false;
  std::string error_;
};

}  // namespace lockgraph::analysis
