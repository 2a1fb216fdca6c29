# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/samples.sh: installs, from Debian's
# packages, whatever troupe's build needs and is not installed yet.

TROUPE_DEB_PACKAGES=(
  build-essential cmake ninja-build ccache g++ clang-14 libclang-rt-14-dev
  clang-format-14 clang-tidy-14 git
  libconcurrentqueue-dev libspdlog-dev libfmt-dev catch2 libasio-dev
  pkgconf
  # samples: argument parsing, image codecs, HTTP client
  libcli11-dev libpng-dev libjpeg62-turbo-dev libcurl4-openssl-dev
  # sample tests: real images made by another tool, a web server
  imagemagick python3
)

troupe_log() { printf '==> %s\n' "$*"; }

# troupe_ensure_deps: apt-get installs the missing packages (as root, or via
# sudo when not root). Does nothing when all are installed.
troupe_ensure_deps() {
  if ! command -v dpkg >/dev/null 2>&1; then
    troupe_log "dpkg not found: not a Debian system; assuming the dependencies are installed:"
    troupe_log "  ${TROUPE_DEB_PACKAGES[*]}"
    return 0
  fi
  local missing=() pkg
  for pkg in "${TROUPE_DEB_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  troupe_log "installing missing packages: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "error: not root and no sudo; install these packages: ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Use the user's ccache directory unless one is set.
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}"
