# lockgraph_soname(<var> <pkg-config prefix> <library name>): the soname of a library found by
# pkg_check_modules (e.g. libgvc.so.6), for code that dlopen()s it instead of linking it
# (analyzer/src/system_library.hpp). Read from the library's dynamic section, so a distribution
# that bumps the library's major version is followed at the next configure.
function(lockgraph_soname var prefix name)
  set(path "")
  foreach(lib IN LISTS ${prefix}_LINK_LIBRARIES)
    get_filename_component(base "${lib}" NAME)
    if(base MATCHES "^lib${name}\\.so")
      set(path "${lib}")
    endif()
  endforeach()
  if(NOT path)
    message(FATAL_ERROR "lib${name}: not among ${prefix}'s libraries (${${prefix}_LINK_LIBRARIES})")
  endif()
  if(NOT CMAKE_OBJDUMP)
    find_program(CMAKE_OBJDUMP objdump REQUIRED)
  endif()
  execute_process(COMMAND "${CMAKE_OBJDUMP}" -p "${path}" OUTPUT_VARIABLE dump COMMAND_ERROR_IS_FATAL ANY)
  if(NOT dump MATCHES "SONAME +([^ \n]+)")
    message(FATAL_ERROR "${path} has no SONAME")
  endif()
  set(${var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
