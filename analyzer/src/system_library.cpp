// open_system_libraries(), find_system_symbol(): see system_library.hpp.
#include "system_library.hpp"

namespace lockgraph::analysis {

bool open_system_libraries(std::initializer_list<const char*> sonames, const char* package,
                           std::vector<void*>* handles, std::string* error) {
  for (const char* soname : sonames) {
    void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* why = dlerror();
      *error = std::string("cannot load ") + soname + " (install the Debian package " + package +
               ", or run scripts/install-deps.sh)" + (why != nullptr ? std::string(": ") + why : std::string());
      for (void* opened : *handles) dlclose(opened);
      handles->clear();
      return false;
    }
    handles->push_back(h);
  }
  return true;
}

void* find_system_symbol(const std::vector<void*>& handles, const char* name) {
  for (void* h : handles) {
    if (void* f = dlsym(h, name)) return f;
  }
  return nullptr;
}

}  // namespace lockgraph::analysis
