// elfutils(): see elfutils_api.hpp.
#include "elfutils_api.hpp"

namespace lockgraph::analysis {

const ElfutilsApi* elfutils() {
  // libdw first: it names libelf as a dependency, so both come from one consistent install.
  static const SystemLibrary<ElfutilsApi> library({LOCKGRAPH_LIBDW_SONAME, LOCKGRAPH_LIBELF_SONAME}, "libdw1");
  return library.api();
}

}  // namespace lockgraph::analysis
