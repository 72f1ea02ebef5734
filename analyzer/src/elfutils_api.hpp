// elfutils() — the functions of libelf and libdw (elfutils) that ElfDataSymbols and
// DwarfMemberPaths call, loaded when a report first names a global variable or a lock inside one
// (system_library.hpp says why they are not linked).
// Contract: null when the libraries cannot be loaded; callers then name nothing, as for a module
// without symbols or debug info. Thread-safe.
// Cost: two dlopen()s at the first call of the process.
#pragma once

#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#include "system_library.hpp"

#define LOCKGRAPH_ELFUTILS_FUNCTIONS(X)                                                                   \
  X(elf_version) X(elf_begin) X(elf_end) X(elf_getdata) X(elf_nextscn) X(elf_strptr) X(gelf_getehdr)      \
  X(gelf_getshdr) X(gelf_getsym) X(dwarf_begin) X(dwarf_end) X(dwarf_nextcu) X(dwarf_offdie) X(dwarf_child) \
  X(dwarf_siblingof) X(dwarf_tag) X(dwarf_diename) X(dwarf_dieoffset) X(dwarf_attr) X(dwarf_attr_integrate) \
  X(dwarf_hasattr) X(dwarf_formaddr) X(dwarf_formudata) X(dwarf_formref_die) X(dwarf_getlocation)          \
  X(dwarf_getlocation_attr) X(dwarf_decl_file) X(dwarf_aggregate_size)

namespace lockgraph::analysis {

LOCKGRAPH_LIBRARY_API(ElfutilsApi, LOCKGRAPH_ELFUTILS_FUNCTIONS)

const ElfutilsApi* elfutils();

}  // namespace lockgraph::analysis
