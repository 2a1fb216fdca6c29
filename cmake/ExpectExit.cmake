# cmake -D EXE=<program> -D "ARGS=<a;b;...>" -D RC=<status> [-D STDOUT=<regex>]
#       [-D STDERR=<regex>] -P ExpectExit.cmake
#
# Runs EXE with ARGS and fails unless it exits with status RC and its
# standard output / error match the given CMake regexes. Used by the
# samples' command-line tests (a bad argument exits 2 naming it).

cmake_minimum_required(VERSION 3.25)

execute_process(
  COMMAND "${EXE}" ${ARGS}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE errors)

message("---- stdout ----\n${output}---- stderr ----\n${errors}---- exit status: ${result} ----")
set(failures "")
if(NOT result STREQUAL "${RC}")
  string(APPEND failures "exit status ${result}, expected ${RC}\n")
endif()
if(DEFINED STDOUT AND NOT output MATCHES "${STDOUT}")
  string(APPEND failures "stdout does not match '${STDOUT}'\n")
endif()
if(DEFINED STDERR AND NOT errors MATCHES "${STDERR}")
  string(APPEND failures "stderr does not match '${STDERR}'\n")
endif()
if(failures)
  message(FATAL_ERROR "${failures}")
endif()
