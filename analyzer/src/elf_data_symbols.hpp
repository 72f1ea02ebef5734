// ElfDataSymbols — the global variables of one ELF module (executable or shared library), read
// from its symbol table with elfutils' libelf, to name the data addresses a trace records.
//
//   ElfDataSymbols syms("/usr/bin/prog");   // loads .symtab (or .dynsym when stripped)
//   if (const DataSymbol* d = syms.find(0x4010)) ... d->name, d->start, d->size
//
// Addresses are the module's own (link-time) addresses: an offset from the load base for
// position-independent modules, the absolute address for ET_EXEC. A symbol matches an address
// inside [start, start + size), or any address after it when its size is 0 — what
// llvm-symbolizer's DATA query answers, without starting a process (~0.5 s on a VM) per module.
// Names are demangled, "(anonymous namespace)::" removed.
// Cost: one pass over the symbol table at construction (sorting its objects), then a binary
// search per lookup. A module that cannot be read has no symbols.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lockgraph::analysis {

struct DataSymbol {
  std::string name;
  std::uint64_t start = 0, size = 0;
};

class ElfDataSymbols {
 public:
  explicit ElfDataSymbols(const std::string& module);
  const DataSymbol* find(std::uint64_t address) const;
  bool position_dependent() const { return position_dependent_; }  // ET_EXEC

 private:
  std::vector<DataSymbol> symbols_;  // by start
  bool position_dependent_ = false;
};

}  // namespace lockgraph::analysis
