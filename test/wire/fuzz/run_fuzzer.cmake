# cmake -DFUZZER=<exe> -DSEEDS=<dir> -DWORK=<dir> -DSECONDS=<n> -P run_fuzzer.cmake
#
# Runs one libFuzzer target for SECONDS over a fresh copy of the seed corpus
# in WORK/corpus (the checked-in corpus is never modified). Crash, leak,
# timeout and out-of-memory inputs land in WORK/artifacts; add them to the
# seed corpus once fixed.

cmake_minimum_required(VERSION 3.25)
foreach(_var FUZZER SEEDS WORK SECONDS)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${_var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(COPY "${SEEDS}/" DESTINATION "${WORK}/corpus")

execute_process(
  COMMAND "${FUZZER}"
          -max_total_time=${SECONDS}
          -rss_limit_mb=2048
          -timeout=10
          -print_final_stats=1
          "-artifact_prefix=${WORK}/artifacts/"
          "${WORK}/corpus"
  RESULT_VARIABLE _rc)

if(NOT _rc EQUAL 0)
  file(GLOB _artifacts "${WORK}/artifacts/*")
  message(FATAL_ERROR "fuzzer ${FUZZER} failed (${_rc}); inputs: ${_artifacts}")
endif()
