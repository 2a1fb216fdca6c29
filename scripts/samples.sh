#!/usr/bin/env bash
# Builds the samples (release preset) and runs each one, checking its output
# against samples/<name>/expected.txt (or expected.regex), and the samples'
# other tests (command lines, real inputs). Prints, per sample, PASS/FAIL and
# the lines of its output that carry its point: the lines that
# samples/<name>/highlights.awk selects (awk patterns, one per line, e.g.
# /^summary:/,/^$/ for a table), or all of it when there is no such file and
# it is short; the full output stays in the file named under it.
# Usage: ./scripts/samples.sh [ctest -R regex to pick samples]
# Logs: build/release/{configure,samples-build,samples-ctest}.log; each
# sample's full stdout: build/release/samples/output/<name>.txt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh

SHOW_LINES=${SHOW_LINES:-20}
dir=build/release
mkdir -p "$dir"

troupe_ensure_deps

troupe_log "configure (release preset)"
if ! cmake --preset release >"$dir/configure.log" 2>&1; then
  tail -n 60 "$dir/configure.log"
  echo "configure failed; full log: $dir/configure.log" >&2
  exit 1
fi
troupe_log "build samples"
if ! cmake --build --preset release --parallel 2 --target troupe_samples \
  >"$dir/samples-build.log" 2>&1; then
  grep -E 'error|FAILED' "$dir/samples-build.log" | head -n 40 || true
  tail -n 40 "$dir/samples-build.log"
  echo "build failed; full log: $dir/samples-build.log" >&2
  exit 1
fi

troupe_log "run samples"
filter=()
(($# > 0)) && filter=(-R "$1")
rc=0
ctest --preset release -L sample --output-on-failure "${filter[@]}" \
  >"$dir/samples-ctest.log" 2>&1 || rc=$?

echo
echo "==== troupe samples ===="
passed=0 failed=0
# ctest lines look like
#   " 3/7 Test #12: sample.ping_pong ....   Passed    0.02 sec"
#   " 4/7 Test #13: sample.wordcount.cli: a bad value exits 2 ...***Failed  0.01 sec"
results=$(sed -nE 's/.*Test +#[0-9]+: sample\.(.*[^ .]) \.+ *(\*\*\*)?([A-Za-z][^0-9]*[A-Za-z]) +[0-9.]+ sec.*/\1|\3/p' \
  "$dir/samples-ctest.log" | sort)
others=()
while IFS='|' read -r name status; do
  [[ -n $name ]] || continue
  if [[ $status == Passed ]]; then
    result=PASS
    passed=$((passed + 1))
  else
    result="FAIL ($status)"
    failed=$((failed + 1))
  fi
  out=$dir/samples/output/$name.txt
  if [[ ! -e $out ]]; then
    # Not a sample's own run (a command-line or real-input test): one line,
    # after the samples.
    others+=("$name: $result")
    continue
  fi
  echo
  echo "--- $name: $result"
  if [[ -s $out ]]; then
    total=$(wc -l <"$out")
    picks=samples/$name/highlights.awk
    if [[ -f $picks ]]; then
      # Each non-blank, non-'#' line is an awk pattern; a line is shown once.
      prog=$(grep -vE '^[[:space:]]*(#|$)' "$picks" | sed 's/$/ { print; next }/')
      awk "$prog" "$out" | sed 's/^/    | /'
      echo "    | (the lines that carry the point; all $total lines: $out)"
    else
      head -n "$SHOW_LINES" "$out" | sed 's/^/    | /'
      if ((total > SHOW_LINES)); then
        echo "    | ... ($((total - SHOW_LINES)) more lines in $out)"
      fi
    fi
  else
    echo "    (printed nothing)"
  fi
  if [[ $result != PASS ]]; then
    # The checker's explanation (diff, unmatched regexes, exit status).
    awk -v n="$name" '$0 == "sample " n " FAILED:" {on = 1; next}
                      on && /^CMake Error/ {exit}
                      on {print "    ! " $0}' "$dir/samples-ctest.log"
  fi
done <<<"$results"
if ((${#others[@]} > 0)); then
  echo
  echo "--- the samples' other tests (command lines, real inputs):"
  for o in "${others[@]}"; do
    echo "    $o"
    [[ $o == *": PASS" ]] || grep -A30 -F "sample.${o%%: FAIL*}" "$dir/samples-ctest.log" |
      grep -E '^(CMake Error|----|exit status|stdout|stderr)' | head -n 12 | sed 's/^/    ! /'
  done
fi

if ((rc != 0)); then
  ((passed + failed > 0)) || {
    failed=1
    tail -n 40 "$dir/samples-ctest.log"
  }
  echo
  echo "full log: $dir/samples-ctest.log"
fi
echo
echo "${passed} passed, ${failed} failed"
((rc == 0))
