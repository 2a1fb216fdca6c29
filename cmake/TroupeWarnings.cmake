# troupe_enable_warnings(<target>)
#
# Turns on troupe's warning set for <target> (PRIVATE, or INTERFACE for an
# interface library), like spdlog's cmake/utils.cmake. -Werror only when
# TROUPE_WERROR is ON (the `release`, `debug` and `tsan` presets), like fmt's
# FMT_WERROR.
#
# TROUPE_THREAD_SAFETY (clang only, default ON with clang, so in the `tsan`
# preset): clang's thread-safety analysis checks the TROUPE_GUARDED_BY /
# TROUPE_REQUIRES annotations (troupe/actors/detail/thread_annotations.hpp),
# and its findings are errors whatever TROUPE_WERROR says.

include_guard(GLOBAL)

if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(_troupe_thread_safety_default ON)
else()
  set(_troupe_thread_safety_default OFF)
endif()
option(TROUPE_THREAD_SAFETY
       "Check troupe's thread-safety annotations (clang -Wthread-safety, as errors)"
       ${_troupe_thread_safety_default})

function(troupe_enable_warnings target)
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    # Warnings are never pushed onto consumers.
    return()
  endif()

  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    set(_warnings
        -Wall
        -Wextra
        -Wpedantic
        -Wshadow
        -Wnon-virtual-dtor
        -Wold-style-cast
        -Wcast-align
        -Wunused
        -Woverloaded-virtual
        -Wconversion
        -Wsign-conversion

        -Wdouble-promotion
        -Wformat=2
        -Wimplicit-fallthrough)
    if(TROUPE_THREAD_SAFETY AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      list(APPEND _warnings -Wthread-safety -Werror=thread-safety)
    endif()
    if(TROUPE_WERROR)
      list(APPEND _warnings -Werror)
    endif()
  elseif(MSVC)
    set(_warnings /W4 /permissive-)
    if(TROUPE_WERROR)
      list(APPEND _warnings /WX)
    endif()
  endif()

  target_compile_options(${target} PRIVATE ${_warnings})
endfunction()
