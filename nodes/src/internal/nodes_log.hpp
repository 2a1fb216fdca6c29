#pragma once
// Logging for troupe::nodes through troupe's spdlog logger ("troupe",
// stderr; see troupe/actors/logging.hpp). Never stdout.

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace troupe::detail {
std::shared_ptr<spdlog::logger> logger();  // defined in actors/src/logging.cpp
}

namespace troupe::nodes::detail {

template <class... Args>
void log_warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  troupe::detail::logger()->warn(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void log_error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  troupe::detail::logger()->error(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void log_info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  troupe::detail::logger()->info(fmt, std::forward<Args>(args)...);
}
/// The text of an errno value; thread-safe, unlike std::strerror.
inline std::string errno_text(int e) { return std::generic_category().message(e); }

template <class... Args>
void log_debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  troupe::detail::logger()->debug(fmt, std::forward<Args>(args)...);
}

}  // namespace troupe::nodes::detail
