// DwarfMemberPaths names the part of a global variable an address falls in, from the debug info
// of this test binary's own globals (every test preset builds with -g).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "dwarf_member_paths.hpp"
#include "elf_data_symbols.hpp"
#include "lockgraph/analyzer/symbolize.hpp"

namespace lockgraph::analysis {
namespace member_paths_globals {
struct Inner {
  int a;
  long b[3];
};
struct Base {
  int base_field;
};
struct Outer : Base {
  char tag;
  Inner in[2];
  std::mutex m;
  union {
    int i;
    float f;
  } u;
  std::string label;
};
Outer outer;
long grid[3][4];
int plain = 7;
}  // namespace member_paths_globals

namespace {
namespace g = member_paths_globals;

// Module-relative address of `p` in this test binary, as the tracer records a data site.
std::uint64_t link_address(const void* p) {
  Dl_info info{};
  EXPECT_NE(dladdr(p, &info), 0);
  const std::uint64_t offset = reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  return ElfDataSymbols("/proc/self/exe").position_dependent() ? reinterpret_cast<std::uintptr_t>(p) : offset;
}

// The path of the byte at `inside` within the global starting at `variable`.
std::string path_of(DwarfMemberPaths& paths, const void* variable, const void* inside) {
  return paths.path(link_address(variable),
                    std::uint64_t(static_cast<const char*>(inside) - static_cast<const char*>(variable)));
}

TEST(DwarfMemberPaths, NamesArrayElementsMembersAndBases) {
  DwarfMemberPaths paths("/proc/self/exe");
  EXPECT_EQ(path_of(paths, &g::outer, &g::outer.in[1].b[2]), ".in[1].b[2]");
  EXPECT_EQ(path_of(paths, &g::outer, &g::outer.in[0].a), ".in[0].a");
  EXPECT_EQ(path_of(paths, &g::outer, &g::outer.tag), ".tag");
  EXPECT_EQ(path_of(paths, &g::outer, &g::outer.base_field), ".base_field");  // through the base class, unnamed
  EXPECT_EQ(path_of(paths, &g::outer, &g::outer.u.f), ".u.i");                // a union: its first member there
  // A byte inside an element is named by the element.
  EXPECT_EQ(path_of(paths, &g::outer, reinterpret_cast<const char*>(&g::outer.in[1].b[1]) + 3), ".in[1].b[1]");
  EXPECT_EQ(path_of(paths, &g::grid, &g::grid[2][3]), "[2][3]");
  EXPECT_EQ(path_of(paths, &g::grid, &g::grid[1][0]), "[1][0]");
  EXPECT_EQ(path_of(paths, &g::plain, &g::plain), "");  // a scalar has no parts
}

TEST(DwarfMemberPaths, StopsAtTypesFromSystemHeaders) {
  DwarfMemberPaths paths("/proc/self/exe");
  // A lock is named as the std::mutex member, not by glibc's pthread internals under it.
  EXPECT_EQ(path_of(paths, &g::outer, &g::outer.m), ".m");
  EXPECT_EQ(path_of(paths, &g::outer, reinterpret_cast<const char*>(&g::outer.label) + 8), ".label");
}

// What race reports show for a racing global of an instrumented program: the variable and its part.
// Lock names (at the scan) and racing globals' names (in reports) read a module's symbols and
// DWARF once for the whole run: every process's GlobalNames shares one ModuleDataNames.
TEST(DwarfMemberPaths, OneModuleIsReadOnceForTheRun) {
  ModuleDataNames data_names;
  const ElfDataSymbols& first = data_names.symbols("/proc/self/exe");
  DwarfMemberPaths& members = data_names.members("/proc/self/exe");
  EXPECT_EQ(&data_names.symbols("/proc/self/exe"), &first);
  EXPECT_EQ(&data_names.members("/proc/self/exe"), &members);
}

TEST(DwarfMemberPaths, GlobalNamesUseThem) {
  Dl_info info{};
  ASSERT_NE(dladdr(&g::outer, &info), 0);
  Module self;
  self.bias = ElfDataSymbols("/proc/self/exe").position_dependent() ? 0 : reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  // The whole module: where the linker puts each global (.data, .bss) differs between builds.
  self.low = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  self.high = ~std::uint64_t(0);
  self.path = "/proc/self/exe";
  const std::vector<Module> modules = {self};
  ModuleDataNames data_names;
  GlobalNames names(data_names);
  EXPECT_EQ(names.name(modules, reinterpret_cast<std::uintptr_t>(&g::outer.in[1].b[2])),
            "lockgraph::analysis::member_paths_globals::outer.in[1].b[2]");
  EXPECT_EQ(names.name(modules, reinterpret_cast<std::uintptr_t>(&g::grid[2][1])),
            "lockgraph::analysis::member_paths_globals::grid[2][1]");
  EXPECT_EQ(names.name(modules, reinterpret_cast<std::uintptr_t>(&g::plain)), "lockgraph::analysis::member_paths_globals::plain");
}

TEST(DwarfMemberPaths, UnknownVariablesAndModulesHaveNoPath) {
  DwarfMemberPaths paths("/proc/self/exe");
  EXPECT_EQ(paths.path(1, 0), "");  // no variable starts there
  EXPECT_EQ(path_of(paths, &g::grid, reinterpret_cast<const char*>(&g::grid) + sizeof g::grid + 8), "");  // past its end
  DwarfMemberPaths missing("/nonexistent/module.so");
  EXPECT_EQ(missing.path(0x1000, 0), "");
  DwarfMemberPaths not_elf("/proc/self/cmdline");
  EXPECT_EQ(not_elf.path(0x1000, 0), "");
}

}  // namespace
}  // namespace lockgraph::analysis
