#!/usr/bin/env bash
# CTest sample.image_pipeline.files: image_pipeline on real files.
# Usage: test_files.sh <path to image_pipeline>
#
# Makes PNG and JPEG files of several kinds with ImageMagick (RGB, 16-bit,
# 8- and 1-bit gray, palette, RGBA, interlaced, gray JPEG, a PNG named .jpg)
# next to corrupt ones (a truncated PNG and JPEG, random bytes named bad.jpg,
# a JPEG header followed by junk, an empty file), runs
# `image_pipeline --input in --out out`, and checks: exit status 0, each
# corrupt file named on stderr (and no good one), one PNG in out/ per good
# input, each readable by ImageMagick's identify as 8-bit gray at half the
# input's size (the pipeline's resize, odd sides rounded down).
set -euo pipefail

exe=${1:?usage: test_files.sh <image_pipeline>}
exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")
for tool in convert identify; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: ImageMagick's '$tool' is not installed (apt-get install imagemagick;" \
      "scripts/lib/deps.sh installs it)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir in out

fail=0
check() { # check <what> <condition...>
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what"
    fail=1
  fi
}

# name -> "width height" of the output (half the input, rounded down).
declare -A want
make() { # make <file> <output w> <output h> <convert arguments...>
  local file=$1 w=$2 h=$3
  shift 3
  convert "$@" "in/$file"
  want[${file%.*}.png]="$w $h"
}
make a.png 32 24 -size 64x48 gradient:red-blue                      # 16-bit RGB
make b.jpg 40 30 -size 80x60 plasma:fractal                         # RGB JPEG
make gray.png 25 20 -size 50x40 gradient:black-white -depth 8 -type Grayscale
make bilevel.png 20 15 -size 40x30 pattern:checkerboard -type Bilevel -define png:bit-depth=1
make deep.png 33 17 -size 66x34 gradient:red-green -define png:bit-depth=16
make pal.png 25 18 -size 51x37 pattern:checkerboard -fill red -draw 'circle 10,10 10,3' \
  -colors 4 -define png:color-type=3
make rgba.png 15 10 -size 30x20 xc:none -fill red -draw 'circle 15,10 15,2' \
  -define png:color-type=6
make laced.png 35 21 -size 70x42 gradient:yellow-navy -interlace PNG
make grayjpeg.jpg 20 15 -size 40x30 gradient: -colorspace Gray
# A PNG named .jpg: the format comes from the magic bytes.
convert -size 24x20 gradient:green-white png:in/misnamed.jpg
want[misnamed.png]="12 10"

# The corrupt ones.
corrupt=(trunc.png trunc.jpg bad.jpg junk.jpg empty.png)
convert -size 64x64 plasma:fractal -define png:bit-depth=8 "$tmp/full.png"
head -c "$(($(stat -c %s "$tmp/full.png") / 2))" "$tmp/full.png" >in/trunc.png
head -c "$(($(stat -c %s in/b.jpg) / 2))" in/b.jpg >in/trunc.jpg
head -c 4096 /dev/urandom >in/bad.jpg
{
  printf '\377\330\377\340'
  head -c 2048 /dev/urandom
} >in/junk.jpg
: >in/empty.png

rc=0
"$exe" --input in --out out >stdout.txt 2>stderr.txt || rc=$?
echo "---- stdout ----"
cat stdout.txt
echo "---- stderr ----"
cat stderr.txt
echo "---- exit status: $rc ----"

check "exit status 0" test "$rc" -eq 0
for f in "${corrupt[@]}"; do
  check "stderr names the corrupt in/$f" grep -q "skipped in/$f: " stderr.txt
done
check "stderr names no other file" test "$(grep -c '^image_pipeline: skipped ' stderr.txt)" \
  -eq "${#corrupt[@]}"
check "stdout counts ${#want[@]} images" grep -q "^image_pipeline: ${#want[@]} images " stdout.txt
check "stdout says ${#corrupt[@]} files were skipped" grep -q "^skipped ${#corrupt[@]} files " \
  stdout.txt
check "the checksums match" grep -q '^check: all checksums match' stdout.txt
check "out/ has ${#want[@]} files" test "$(find out -type f | wc -l)" -eq "${#want[@]}"
for name in "${!want[@]}"; do
  if [[ ! -f out/$name ]]; then
    check "out/$name exists" false
    continue
  fi
  got=$(identify -format '%w %h %[colorspace] %z' "out/$name" 2>&1) || true
  check "out/$name is ${want[$name]}, 8-bit gray (identify: $got)" \
    test "$got" = "${want[$name]} Gray 8"
done

if ((fail)); then
  echo "sample.image_pipeline.files: FAILED"
  exit 1
fi
echo "sample.image_pipeline.files: all checks passed"
