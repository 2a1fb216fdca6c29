#!/usr/bin/env bash
# The lint stage of scripts/test.sh, also run on its own:
#   format  clang-format-14 (.clang-format) over every tracked C++ file: any
#           diff fails (`scripts/lint.sh --fix` rewrites the files instead)
#   tidy    clang-tidy-14 (.clang-tidy) over the libraries' sources and
#           their headers: any finding fails
# The compile database is build/release's (configured here if missing).
# Logs: build/lint/{format,tidy}.log. Exits 1 on a finding.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
LOG=build/lint
mkdir -p "$LOG"
fix=0
[[ ${1:-} == --fix ]] && fix=1

mapfile -t cxx < <(git ls-files '*.hpp' '*.cpp' '*.h' '*.cc')
mapfile -t lib < <(git ls-files 'wire/src/*.cpp' 'actors/src/*.cpp' 'channels/src/*.cpp' \
  'nodes/src/*.cpp')

status=0
if ((fix)); then
  clang-format-14 -i "${cxx[@]}"
  echo "lint: formatted ${#cxx[@]} files"
  exit 0
fi

if clang-format-14 --dry-run --Werror "${cxx[@]}" >"$LOG/format.log" 2>&1; then
  echo "lint: format: ${#cxx[@]} files clean"
else
  bad=$(grep -oE '^[^ :]+\.(hpp|cpp|h|cc):' "$LOG/format.log" | sort -u)
  echo "lint: format: $(grep -c 'error:' "$LOG/format.log" || true) finding(s) in" \
    "$(wc -l <<<"$bad") file(s) (scripts/lint.sh --fix formats them):"
  head -n 20 <<<"$bad"
  status=1
fi

if [[ ! -f build/release/compile_commands.json ]]; then
  cmake --preset release >"$LOG/configure.log" 2>&1 || {
    tail -n 40 "$LOG/configure.log"
    exit 1
  }
fi
# One clang-tidy per source, two at a time; --quiet keeps only findings.
if printf '%s\n' "${lib[@]}" |
  xargs -P 2 -n 1 clang-tidy-14 -p build/release --quiet >"$LOG/tidy.log" 2>&1 &&
  ! grep -q 'error:' "$LOG/tidy.log"; then
  echo "lint: tidy: ${#lib[@]} library sources clean"
else
  echo "lint: tidy: $(grep -c 'error:' "$LOG/tidy.log" || true) finding(s):"
  grep -E 'error:' "$LOG/tidy.log" | sort -u | head -n 40
  status=1
fi
exit "$status"
