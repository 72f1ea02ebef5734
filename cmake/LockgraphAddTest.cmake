# lockgraph_add_test(NAME name COMMAND prog args...
#                    [FAIL_ON kinds] [SUPPRESS file] [BASELINE file] [SARIF file] [HTML file]
#                    [GRAPH file] [TIMEOUT seconds] [WORKING_DIRECTORY dir])
#
# Registers a ctest that runs the command under `lockgraph run` and fails when the analysis finds
# something the gate fails on (exit 1), when lockgraph cannot run it (exit 2), or when the program
# itself fails. The trace goes to ${CMAKE_CURRENT_BINARY_DIR}/lockgraph/<name> (replaced on every
# run); SARIF/HTML, when asked for, are written next to the text report; GRAPH saves the run's
# lock-order graph for `lockgraph merge`. A target name as the
# first COMMAND word is replaced by its file. Exit codes: docs/ci.md.
function(lockgraph_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 LG "" "NAME;FAIL_ON;SUPPRESS;BASELINE;SARIF;HTML;GRAPH;TIMEOUT;WORKING_DIRECTORY" "COMMAND")
  if(NOT LG_NAME OR NOT LG_COMMAND)
    message(FATAL_ERROR "lockgraph_add_test: NAME and COMMAND are required")
  endif()
  if(LG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "lockgraph_add_test(${LG_NAME}): unknown arguments ${LG_UNPARSED_ARGUMENTS}")
  endif()
  list(POP_FRONT LG_COMMAND program)
  if(TARGET ${program})
    set(program "$<TARGET_FILE:${program}>")
  endif()
  set(args run --trace-dir "${CMAKE_CURRENT_BINARY_DIR}/lockgraph/${LG_NAME}" --force)
  foreach(opt FAIL_ON SUPPRESS BASELINE SARIF HTML TIMEOUT)
    if(DEFINED LG_${opt})
      string(TOLOWER "${opt}" flag)
      string(REPLACE "_" "-" flag "${flag}")
      list(APPEND args "--${flag}" "${LG_${opt}}")
    endif()
  endforeach()
  if(DEFINED LG_GRAPH)
    list(APPEND args --save-graph "${LG_GRAPH}")
  endif()
  set(wd "")
  if(LG_WORKING_DIRECTORY)
    set(wd WORKING_DIRECTORY "${LG_WORKING_DIRECTORY}")
  endif()
  add_test(NAME ${LG_NAME} COMMAND "$<TARGET_FILE:lockgraph::lockgraph>" ${args} -- "${program}" ${LG_COMMAND} ${wd})
  set_tests_properties(${LG_NAME} PROPERTIES LABELS lockgraph)
endfunction()
