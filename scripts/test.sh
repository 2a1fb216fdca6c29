#!/usr/bin/env bash
# Builds and runs every troupe test:
#   lint      scripts/lint.sh: clang-format-14 over the tree and clang-tidy-14
#             over the libraries; any diff or finding fails
#   release   g++ -O2: unit, stress, compile_fail, sample and bench smoke tests
#   tsan      clang++-14 + ThreadSanitizer, the same tests
#   asan      g++ + AddressSanitizer + UBSan, the same tests but compile_fail,
#             bench smoke and samples (release covers those with the same
#             compiler, tsan runs the samples under a sanitizer; this keeps
#             the slowest build within the CI budget)
#   fuzz      clang++-14 libFuzzer + ASan + UBSan: builds the fuzz targets and
#             runs each for 60 s over a copy of its seed corpus
#             (ctest --preset fuzz -L fuzz; the corpus replays run in every stage)
#   consumer  installs the release build into build/install and builds and runs
#             test/consumer against it with find_package(troupe) and, in one
#             g++ line, with pkg-config's flags for the installed troupe.pc;
#             then against the release build tree itself
#             (troupe_DIR=build/release)
# Usage: ./scripts/test.sh [stage...]      (default: lint release tsan asan fuzz consumer;
#        "debug" is also accepted: g++ with warnings as errors)
# Logs: build/<preset>/{configure,build,ctest}.log, build/consumer/*.log,
#       build/lint/*.log.
# Prints a summary table; the last line is "N passed, N failed" (all ctest
# runs; a stage that fails before its tests run counts as 1 failed). Exits 1
# if any stage failed, after running all of them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh

ALL_STAGES=(lint release tsan asan fuzz consumer)
KNOWN_STAGES=" lint release debug tsan asan fuzz consumer "
if (($# == 0)); then
  STAGES=("${ALL_STAGES[@]}")
else
  STAGES=()
  for s in "$@"; do
    case "$s" in
      -h | --help)
        sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    esac
    if [[ $KNOWN_STAGES != *" $s "* ]]; then
      echo "unknown stage '$s'; stages:$KNOWN_STAGES" >&2
      exit 2
    fi
    STAGES+=("$s")
  done
fi

# The tsan/asan test presets set the same values (they win under ctest); these
# cover the build-time test discovery runs. allocator_may_return_null=1: tests
# check that troupe survives an allocation that fails (a huge channel).
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1 suppressions=$ROOT/test/sanitizers/tsan.supp}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export CTEST_OUTPUT_ON_FAILURE=1

troupe_ensure_deps

# Per-stage results, filled by record().
declare -A RESULT PASSED FAILED SECS
TSAN_WRAP=()
TOTAL_PASSED=0
TOTAL_FAILED=0
ANY_FAILED=0

record() { # stage result passed failed seconds
  RESULT[$1]=$2 PASSED[$1]=$3 FAILED[$1]=$4 SECS[$1]=$5
  TOTAL_PASSED=$((TOTAL_PASSED + $3))
  TOTAL_FAILED=$((TOTAL_FAILED + $4))
  [[ $2 == PASS ]] || ANY_FAILED=1
}

show_tail() { # log lines
  echo "---- last $2 lines of $1 ----"
  tail -n "$2" "$1" || true
  echo "---- end of $1 ----"
}

# run_logged <log> <cmd...>: runs cmd with all output to log; returns its status.
run_logged() {
  local log=$1
  shift
  "$@" >"$log" 2>&1
}

# Sets CT_PASSED / CT_FAILED from a ctest log; returns 1 if no summary line.
parse_ctest() {
  local line
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1) || true
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    CT_FAILED=${BASH_REMATCH[1]}
    CT_PASSED=$((BASH_REMATCH[2] - CT_FAILED))
    return 0
  fi
  CT_PASSED=0 CT_FAILED=0
  return 1
}

# ThreadSanitizer (LLVM 14) cannot map its shadow memory when the kernel uses
# more than 28 bits of mmap randomization; run it without ASLR there.
tsan_wrapper() {
  TSAN_WRAP=()
  local bits
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)
  if ((bits > 28)) && setarch "$(uname -m)" -R true 2>/dev/null; then
    troupe_log "vm.mmap_rnd_bits=$bits > 28: running TSan binaries under setarch -R"
    TSAN_WRAP=(setarch "$(uname -m)" -R)
  fi
}

# ensure_built <preset>: configure + build, logs in build/<preset>/.
ensure_built() {
  local p=$1 dir=build/$1 wrap=()
  mkdir -p "$dir"
  [[ $p == tsan ]] && tsan_wrapper && wrap=("${TSAN_WRAP[@]}")
  troupe_log "$p: configure"
  if ! run_logged "$dir/configure.log" cmake --preset "$p"; then
    show_tail "$dir/configure.log" 60
    return 1
  fi
  troupe_log "$p: build (log: $dir/build.log)"
  if ! run_logged "$dir/build.log" "${wrap[@]}" cmake --build --preset "$p" --parallel 2; then
    grep -E 'error|FAILED' "$dir/build.log" | head -n 40 || true
    show_tail "$dir/build.log" 60
    return 1
  fi
}

run_preset_stage() {
  local p=$1 dir=build/$1 start=$SECONDS wrap=()
  if ! ensure_built "$p"; then
    troupe_log "$p: FAILED before tests ran"
    record "$p" FAIL 0 1 $((SECONDS - start))
    return
  fi
  [[ $p == tsan ]] && wrap=("${TSAN_WRAP[@]}")
  # The fuzz build holds only the fuzz targets; its preset also filters on the label.
  local select=()
  [[ $p == fuzz ]] && select=(-L fuzz)
  troupe_log "$p: ctest (log: $dir/ctest.log)"
  local rc=0
  run_logged "$dir/ctest.log" "${wrap[@]}" ctest --preset "$p" --no-tests=error "${select[@]}" || rc=$?
  if ! parse_ctest "$dir/ctest.log"; then
    CT_FAILED=1 # ctest ended without a summary (no tests, crash, ...)
  fi
  if ((rc != 0)); then
    ((CT_FAILED > 0)) || CT_FAILED=1
    show_tail "$dir/ctest.log" 150
    record "$p" FAIL "$CT_PASSED" "$CT_FAILED" $((SECONDS - start))
  else
    record "$p" PASS "$CT_PASSED" "$CT_FAILED" $((SECONDS - start))
  fi
  troupe_log "$p: ${RESULT[$p]} (${PASSED[$p]} passed, ${FAILED[$p]} failed, ${SECS[$p]} s)"
}

# consumer_build <what> <build dir> <log prefix> <cmake arg...>: configures,
# builds and runs test/consumer in <build dir> against troupe found by the
# cmake args, logs <log prefix>{configure,build,ctest}.log. Adds its tests to
# C_PASSED / C_FAILED (a failed configure or build counts as 1 failed).
consumer_build() {
  local what=$1 bdir=$2 logs=$3 rc=0
  shift 3
  troupe_log "consumer: configure + build test/consumer against $what"
  if ! run_logged "${logs}configure.log" cmake -S test/consumer -B "$bdir" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ "$@"; then
    show_tail "${logs}configure.log" 60
    C_FAILED=$((C_FAILED + 1))
    return
  fi
  if ! run_logged "${logs}build.log" cmake --build "$bdir" --parallel 2; then
    show_tail "${logs}build.log" 60
    C_FAILED=$((C_FAILED + 1))
    return
  fi
  run_logged "${logs}ctest.log" ctest --test-dir "$bdir" --output-on-failure \
    --no-tests=error --timeout 60 || rc=$?
  parse_ctest "${logs}ctest.log" || CT_FAILED=1
  if ((rc != 0)); then
    ((CT_FAILED > 0)) || CT_FAILED=1
    show_tail "${logs}ctest.log" 60
  fi
  C_PASSED=$((C_PASSED + CT_PASSED))
  C_FAILED=$((C_FAILED + CT_FAILED))
}

# pkgconfig_build <prefix> <dir>: compiles test/consumer/main.cpp with the
# flags pkg-config gives for <prefix>'s troupe.pc and runs it; logs
# <dir>/pkgconfig.log. Counts 1 passed or 1 failed in C_PASSED / C_FAILED.
pkgconfig_build() {
  local prefix=$1 dir=$2 pcdir flags version
  pcdir=$(dirname "$(find "$prefix" -name troupe.pc -print -quit)")
  troupe_log "consumer: compile test/consumer/main.cpp with pkg-config's flags for troupe.pc"
  if {
    flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs troupe) &&
      version=$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion troupe) &&
      echo "g++ -std=c++20 test/consumer/main.cpp -DEXPECT_VERSION=\"$version\" $flags" &&
      # shellcheck disable=SC2086 # the flags are words
      g++ -std=c++20 -O1 test/consumer/main.cpp -DEXPECT_VERSION="\"$version\"" $flags \
        -o "$dir/pkgconfig-consumer" &&
      "$dir/pkgconfig-consumer"
  } >"$dir/pkgconfig.log" 2>&1; then
    C_PASSED=$((C_PASSED + 1))
  else
    show_tail "$dir/pkgconfig.log" 40
    C_FAILED=$((C_FAILED + 1))
  fi
}

run_consumer_stage() {
  local start=$SECONDS dir=build/consumer prefix=$ROOT/build/install
  # The release tree is reused when the release stage already built it.
  if [[ ${RESULT[release]:-} != PASS ]] && ! ensure_built release; then
    troupe_log "consumer: release build failed"
    record consumer FAIL 0 1 $((SECONDS - start))
    return
  fi
  rm -rf "$prefix" "$dir"
  mkdir -p "$dir"
  C_PASSED=0 C_FAILED=0
  troupe_log "consumer: install release build into build/install"
  if run_logged "$dir/install.log" cmake --install build/release --prefix "$prefix"; then
    # logs: $dir/{configure,build,ctest}.log
    consumer_build "the install" "$dir/build" "$dir/" -DCMAKE_PREFIX_PATH="$prefix"
    # pkg-config: one compile line with the installed troupe.pc, then a run.
    pkgconfig_build "$prefix" "$dir"
  else
    show_tail "$dir/install.log" 60
    C_FAILED=$((C_FAILED + 1))
  fi
  # The release build tree itself, not installed: logs $dir/tree-*.log.
  consumer_build "the release build tree" "$dir/tree-build" "$dir/tree-" \
    -Dtroupe_DIR="$ROOT/build/release"
  if ((C_FAILED > 0)); then
    record consumer FAIL "$C_PASSED" "$C_FAILED" $((SECONDS - start))
  else
    record consumer PASS "$C_PASSED" "$C_FAILED" $((SECONDS - start))
  fi
  troupe_log "consumer: ${RESULT[consumer]} (${SECS[consumer]} s)"
}

run_lint_stage() {
  local start=$SECONDS
  troupe_log "lint: clang-format and clang-tidy (logs: build/lint/)"
  if scripts/lint.sh; then
    record lint PASS 1 0 $((SECONDS - start))
  else
    record lint FAIL 0 1 $((SECONDS - start))
  fi
  troupe_log "lint: ${RESULT[lint]} (${SECS[lint]} s)"
}

for stage in "${STAGES[@]}"; do
  if [[ $stage == lint ]]; then
    run_lint_stage
  elif [[ $stage == consumer ]]; then
    run_consumer_stage
  else
    run_preset_stage "$stage"
  fi
done

echo
echo "==== troupe test summary ===="
printf '%-10s %-6s %8s %8s %9s\n' stage result passed failed seconds
for stage in "${STAGES[@]}"; do
  printf '%-10s %-6s %8s %8s %9s\n' "$stage" "${RESULT[$stage]}" "${PASSED[$stage]}" \
    "${FAILED[$stage]}" "${SECS[$stage]}"
done
echo
echo "${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed"
exit "$ANY_FAILED"
