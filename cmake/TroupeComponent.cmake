# troupe_add_component(<name>
#                      SOURCES <file>...
#                      [PUBLIC_DEPS <target>...]
#                      [PRIVATE_DEPS <target>...])
#
# Defines the library of one troupe component from <name>/CMakeLists.txt:
#
#   target troupe_<name> (STATIC unless BUILD_SHARED_LIBS is ON), alias
#   troupe::<name>, exported as troupe::<name> (EXPORT_NAME <name>), output
#   libtroupe_<name>, versioned with the project;
#   C++20 for it and its users;
#   include dirs: <name>/include (PUBLIC; installed as include/) and <name>/src
#   (PRIVATE: src/internal/*.hpp, never installed);
#   PUBLIC_DEPS / PRIVATE_DEPS linked PUBLIC / PRIVATE;
#   troupe's warning set (troupe_enable_warnings).
#
# What only one component needs (header-only include dirs, definitions,
# options) follows the call in its CMakeLists.txt, on troupe_<name>. The
# component must also be named in TROUPE_COMPONENTS (top-level CMakeLists.txt),
# which adds its directory, links it from troupe::troupe, installs it and
# checks its headers.

include_guard(GLOBAL)

function(troupe_add_component name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "troupe_add_component(${name}): SOURCES is required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "troupe_add_component(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(_target troupe_${name})

  add_library(${_target} ${arg_SOURCES})
  add_library(troupe::${name} ALIAS ${_target})
  set_target_properties(${_target} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME ${_target}
    POSITION_INDEPENDENT_CODE ON
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR})

  target_compile_features(${_target} PUBLIC cxx_std_20)

  target_include_directories(${_target}
    PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:include>
    PRIVATE
      ${CMAKE_CURRENT_SOURCE_DIR}/src)

  target_link_libraries(${_target} PUBLIC ${arg_PUBLIC_DEPS} PRIVATE ${arg_PRIVATE_DEPS})

  troupe_enable_warnings(${_target})
endfunction()
