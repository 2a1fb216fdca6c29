# troupe's third-party dependencies.
#
#   Threads, spdlog (compiled, Debian uses external fmt): linked targets.
#   moodycamel ConcurrentQueue, asio: header-only, used only under */src/ as
#   PRIVATE SYSTEM include dirs, so the export set stays clean (see STYLE.md).
#
# Every missing dependency stops the configure with the Debian package to
# install; scripts/lib/deps.sh installs all of them.

include_guard(GLOBAL)

function(_troupe_missing what package)
  message(FATAL_ERROR
    "troupe: ${what} not found. On Debian/Ubuntu install it with:\n"
    "  apt-get install ${package}\n"
    "or run ./scripts/test.sh, which installs every dependency.")
endfunction()

find_package(Threads REQUIRED)

find_package(spdlog CONFIG QUIET)
if(NOT spdlog_FOUND)
  _troupe_missing("spdlog (CMake package 'spdlog')" "libspdlog-dev libfmt-dev")
endif()

# Debian: /usr/include/concurrentqueue/concurrentqueue.h; upstream install:
# <prefix>/include/concurrentqueue/moodycamel/concurrentqueue.h. Sources write
# #include <concurrentqueue.h>.
find_path(TROUPE_CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue.h
          PATH_SUFFIXES concurrentqueue concurrentqueue/moodycamel moodycamel
          DOC "Directory holding moodycamel's concurrentqueue.h")
if(NOT TROUPE_CONCURRENTQUEUE_INCLUDE_DIR)
  _troupe_missing("moodycamel ConcurrentQueue (concurrentqueue.h)" "libconcurrentqueue-dev")
endif()

# asio (standalone) is needed by the process backend and network nodes. Found
# optionally here; a component that needs it sets TROUPE_NEED_ASIO (or calls
# troupe_require_asio()) to make it mandatory.
find_path(TROUPE_ASIO_INCLUDE_DIR asio.hpp DOC "Directory holding standalone asio.hpp")

function(troupe_require_asio)
  if(NOT TROUPE_ASIO_INCLUDE_DIR)
    _troupe_missing("standalone asio (asio.hpp)" "libasio-dev")
  endif()
endfunction()

if(TROUPE_NEED_ASIO)
  troupe_require_asio()
endif()
