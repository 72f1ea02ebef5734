// DwarfMemberPaths — names the part of a global variable that an address falls in, from the
// module's DWARF debug info (elfutils' libdw): "[1].m" for the mutex member of the second element
// of `Account accounts[4]`, ".stats.hits" for a counter inside a global struct.
//
//   DwarfMemberPaths paths("/usr/bin/prog");
//   std::string p = paths.path(symbol_start, offset);   // "[1].m", or "" when unknown
//
// Addresses are the module's own (link-time), as ElfDataSymbols'. The walk goes down through
// arrays (one index per dimension), structs, classes and unions (a member name; base classes and
// anonymous members add none) to the innermost part holding `offset`. It never goes into a type
// declared in a system header (under /usr/): a std::mutex member is "accounts[1].m", not its
// pthread internals; a std::string is named as a whole. Bit-fields are named by their member.
// Contract: "" when the module has no debug info, the variable is not described at top level
// or in a namespace (function statics), or the offset is outside it.
// Cost: the first call reads the top-level variable entries of every compile unit once; each call
// then walks one chain of type entries. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace lockgraph::analysis {

class DwarfMemberPaths {
 public:
  explicit DwarfMemberPaths(std::string module);
  ~DwarfMemberPaths();
  DwarfMemberPaths(const DwarfMemberPaths&) = delete;
  DwarfMemberPaths& operator=(const DwarfMemberPaths&) = delete;

  std::string path(std::uint64_t variable_start, std::uint64_t offset);

 private:
  struct Handle;
  void index();

  std::string module_;
  std::unique_ptr<Handle> handle_;  // the open module and its DWARF, once index() ran
  bool indexed_ = false;
  std::unordered_map<std::uint64_t, std::uint64_t> type_of_variable_;  // address -> type entry offset
};

}  // namespace lockgraph::analysis
