# lockgraph_instrument(TARGET): build TARGET so that lockgraph records its memory accesses.
#
# Links lockgraph::instrument: compiles with the compiler's ThreadSanitizer instrumentation and
# links lockgraph's runtime (liblockgraph_rt.so, which provides the __tsan_* hooks) instead of
# libtsan. Run the result under `lockgraph run` (or with LOCKGRAPH_TRACE_DIR set: the runtime
# records by itself). The same flags by hand: `lockgraph config --cxxflags` / `--ldflags`.
function(lockgraph_instrument target)
  target_link_libraries(${target} PRIVATE lockgraph::instrument)
endfunction()
