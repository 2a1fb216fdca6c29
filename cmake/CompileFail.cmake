# cmake -D CONFIG=<file> -P CompileFail.cmake
#
# Runs by a compile_fail test. <file> sets TARGET, BUILD_DIR and REGEX.
# Builds TARGET and succeeds only if the build FAILS and its output matches
# REGEX. Prints the compiler output either way.

cmake_minimum_required(VERSION 3.25)
include("${CONFIG}")

execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(result EQUAL 0)
  message("${output}")
  message("compile_fail: '${TARGET}' compiled, but it must not.\n"
          "Expected a diagnostic matching: ${REGEX}")
  message(FATAL_ERROR "compile_fail: ${TARGET} FAILED")
endif()

if(NOT output MATCHES "${REGEX}")
  message("${output}")
  message("compile_fail: '${TARGET}' failed to compile, but not with the expected diagnostic.\n"
          "Expected a match for: ${REGEX}")
  message(FATAL_ERROR "compile_fail: ${TARGET} FAILED")
endif()

message(STATUS "compile_fail: '${TARGET}' was rejected as expected (matched: ${REGEX})")
