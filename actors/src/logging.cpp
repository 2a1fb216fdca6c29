#include "troupe/actors/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string_view>

#include "internal/log.hpp"

namespace troupe {
namespace detail {
namespace {

spdlog::level::level_enum initial_level() {
  const char* env = std::getenv("TROUPE_LOG");  // NOLINT(concurrency-mt-unsafe): read once
  if (env == nullptr || *env == '\0') return spdlog::level::warn;
  const std::string_view v(env);
  for (int l = spdlog::level::trace; l <= spdlog::level::off; ++l) {
    const auto lvl = static_cast<spdlog::level::level_enum>(l);
    const auto name = spdlog::level::to_string_view(lvl);
    if (std::string_view(name.data(), name.size()) == v) return lvl;
  }
  if (v == "warning") return spdlog::level::warn;
  if (v == "none") return spdlog::level::off;
  return spdlog::level::warn;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  // Never destroyed: a thread still running during static destruction at
  // exit (a node's I/O thread) may log after a static shared_ptr is gone.
  // The pointer keeps it reachable, so leak checkers do not count it.
  static const std::shared_ptr<spdlog::logger>& instance = *new std::shared_ptr<spdlog::logger>([] {
    // A logger the user registered under "troupe" wins: they chose its sinks.
    if (auto existing = spdlog::get("troupe")) return existing;
    auto l = std::make_shared<spdlog::logger>(
        "troupe", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    l->set_level(initial_level());
    try {
      spdlog::register_logger(l);
    } catch (const spdlog::spdlog_ex&) {  // registered concurrently by the user
      if (auto existing = spdlog::get("troupe")) return existing;
    }
    return l;
  }());
  return instance;
}

}  // namespace detail

void set_log_level(log_level level) {
  detail::logger()->set_level(static_cast<spdlog::level::level_enum>(level));
}

log_level get_log_level() { return static_cast<log_level>(detail::logger()->level()); }

}  // namespace troupe
