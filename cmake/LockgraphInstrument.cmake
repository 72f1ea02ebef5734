# lockgraph_instrument(TARGET): build TARGET so that lockgraph records its memory accesses.
#
# Compiles with the compiler's ThreadSanitizer instrumentation and links lockgraph's runtime
# (liblockgraph_rt.so, which provides the __tsan_* hooks) instead of libtsan. Run the result
# under `lockgraph run` (or with LOCKGRAPH_TRACE_DIR set: the runtime records by itself).
# The same flags by hand: `lockgraph config --cxxflags` / `--ldflags`.
function(lockgraph_instrument target)
  target_compile_options(${target} PRIVATE -fsanitize=thread -g)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang links its own runtime for -fsanitize=thread unless told not to.
    target_link_options(${target} PRIVATE -fsanitize=thread -fno-sanitize-link-runtime)
  endif()
  # g++ links libtsan only when -fsanitize=thread is on the link line: it is not.
  target_link_libraries(${target} PRIVATE lockgraph::rt)
endfunction()
