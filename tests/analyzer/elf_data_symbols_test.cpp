// ElfDataSymbols names global variables from a module's symbol table: this test binary's own.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "elf_data_symbols.hpp"

namespace lockgraph::analysis {
namespace {
long table_of_four[4];  // in an anonymous namespace: the name is shown without it
}  // namespace
namespace testing_globals {
int counter = 1;
}  // namespace testing_globals

namespace {

// The test binary's own path and the offset of `address` from its load base (what the tracer
// records for a data site: module and module offset).
std::uint64_t module_offset(const void* address, std::string* module) {
  Dl_info info{};
  EXPECT_NE(dladdr(address, &info), 0);
  *module = "/proc/self/exe";
  return reinterpret_cast<std::uintptr_t>(address) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
}

TEST(ElfDataSymbols, NamesGlobalsAndTheirExtent) {
  std::string module;
  const std::uint64_t table = module_offset(&table_of_four[0], &module);
  const ElfDataSymbols symbols(module);
  ASSERT_FALSE(symbols.position_dependent() && table == 0);
  const std::uint64_t base = symbols.position_dependent() ? reinterpret_cast<std::uintptr_t>(&table_of_four[0]) - table : 0;
  const DataSymbol* d = symbols.find(base + table + 2 * sizeof(long));  // inside the array
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, "lockgraph::analysis::table_of_four");
  EXPECT_EQ(d->start, base + table);
  EXPECT_EQ(d->size, sizeof table_of_four);
  const std::uint64_t counter = module_offset(&testing_globals::counter, &module);
  d = symbols.find(base + counter);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, "lockgraph::analysis::testing_globals::counter");
  EXPECT_EQ(d->size, sizeof(int));
}

TEST(ElfDataSymbols, AnUnreadableModuleHasNoSymbols) {
  const ElfDataSymbols missing("/nonexistent/module.so");
  EXPECT_EQ(missing.find(0x1000), nullptr);
  const ElfDataSymbols not_elf("/proc/self/cmdline");
  EXPECT_EQ(not_elf.find(0x1000), nullptr);
}

}  // namespace
}  // namespace lockgraph::analysis
