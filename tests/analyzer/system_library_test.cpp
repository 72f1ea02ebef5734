// SystemLibrary: libraries loaded at first use (Graphviz, elfutils) — a library that is there
// gives working functions, and a missing library or function gives one line that says what to
// install, never a crash.
#include "system_library.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

extern "C" int lockgraph_test_function_no_library_has(int);  // declared only: no library defines it

namespace lockgraph::analysis {
namespace {

#define LIBC_FUNCTIONS(X) X(strlen) X(atoi)
LOCKGRAPH_LIBRARY_API(LibcApi, LIBC_FUNCTIONS)

#define WITH_MISSING_FUNCTIONS(X) X(strlen) X(lockgraph_test_function_no_library_has)
LOCKGRAPH_LIBRARY_API(WithMissingApi, WITH_MISSING_FUNCTIONS)

TEST(SystemLibrary, FunctionsOfALoadedLibraryWork) {
  const SystemLibrary<LibcApi> libc({"libc.so.6"}, "libc6");
  const LibcApi* api = libc.api();
  ASSERT_NE(api, nullptr) << libc.error();
  EXPECT_EQ(api->strlen("lockgraph"), 9u);
  EXPECT_EQ(api->atoi("-42"), -42);
  EXPECT_TRUE(libc.error().empty());
}

TEST(SystemLibrary, AMissingLibraryNamesItAndItsPackage) {
  const SystemLibrary<LibcApi> missing({"libc.so.6", "liblockgraph-no-such-library.so.9"}, "lockgraph-test-pkg");
  EXPECT_EQ(missing.api(), nullptr);
  const std::string& e = missing.error();
  EXPECT_NE(e.find("cannot load liblockgraph-no-such-library.so.9"), std::string::npos) << e;
  EXPECT_NE(e.find("lockgraph-test-pkg"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
}

TEST(SystemLibrary, AMissingFunctionIsNamed) {
  const SystemLibrary<WithMissingApi> partial({"libc.so.6"}, "libc6");
  EXPECT_EQ(partial.api(), nullptr);
  EXPECT_NE(partial.error().find("no function lockgraph_test_function_no_library_has"), std::string::npos)
      << partial.error();
}

}  // namespace
}  // namespace lockgraph::analysis
