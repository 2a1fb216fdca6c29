# cmake -D EXE=<program> -D CONFIG=<file> -P CompareOutput.cmake
#
# Run by each sample.<name> test. CONFIG sets NAME, ARGS, EXPECT, MODE (exact
# or regex) and OUTPUT_FILE. Runs EXE, saves its stdout to OUTPUT_FILE, and
# fails unless it exited 0 and its stdout
#   MODE exact: equals the contents of EXPECT byte for byte;
#   MODE regex: matches every non-blank, non-'#' line of EXPECT (CMake regex;
#               '^'/'$' anchor the whole output, not a line; the two
#               characters '\n' in a line stand for a newline).

cmake_minimum_required(VERSION 3.25)
include("${CONFIG}")

execute_process(
  COMMAND "${EXE}" ${ARGS}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE errors)

file(WRITE "${OUTPUT_FILE}" "${output}")

# Shown by ctest --output-on-failure / -V.
message("---- ${NAME}: stdout ----\n${output}---- end of stdout ----")
if(NOT errors STREQUAL "")
  message("---- ${NAME}: stderr ----\n${errors}---- end of stderr ----")
endif()

set(failures "")

if(NOT result EQUAL 0)
  string(APPEND failures "  exit status: ${result} (expected 0)\n")
endif()

if(NOT EXISTS "${EXPECT}")
  string(APPEND failures
    "  no expected output: add ${EXPECT} (exact) or expected.regex (one regex per line)\n")
elseif(MODE STREQUAL "exact")
  file(READ "${EXPECT}" expected)
  if(NOT output STREQUAL expected)
    string(APPEND failures "  stdout differs from ${EXPECT}:\n")
    find_program(DIFF_PROGRAM diff)
    if(DIFF_PROGRAM)
      execute_process(
        COMMAND "${DIFF_PROGRAM}" -u --label expected --label actual "${EXPECT}" "${OUTPUT_FILE}"
        OUTPUT_VARIABLE diff_text)
      string(APPEND failures "${diff_text}")
    else()
      string(APPEND failures "---- expected ----\n${expected}---- actual ----\n${output}\n")
    endif()
  endif()
else()
  # Walk the file line by line without CMake lists, so ';' in a regex is kept.
  file(READ "${EXPECT}" text)
  set(line_no 0)
  while(NOT text STREQUAL "")
    string(FIND "${text}" "\n" nl)
    if(nl EQUAL -1)
      set(line "${text}")
      set(text "")
    else()
      string(SUBSTRING "${text}" 0 ${nl} line)
      math(EXPR next "${nl} + 1")
      string(SUBSTRING "${text}" ${next} -1 text)
    endif()
    math(EXPR line_no "${line_no} + 1")
    string(REGEX REPLACE "\r$" "" line "${line}")
    if(line STREQUAL "" OR line MATCHES "^#")
      continue()
    endif()
    string(REPLACE "\\n" "\n" line "${line}")
    if(NOT output MATCHES "${line}")
      string(APPEND failures "  ${EXPECT}:${line_no}: no match for: ${line}\n")
    endif()
  endwhile()
endif()

if(NOT failures STREQUAL "")
  # Details via plain message(): FATAL_ERROR would re-wrap the diff.
  message("sample ${NAME} FAILED:\n${failures}")
  message(FATAL_ERROR "sample ${NAME} FAILED")
endif()
message("sample ${NAME}: output as expected")
