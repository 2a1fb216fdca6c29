#pragma once
// The "troupe" spdlog logger (see troupe/actors/logging.hpp).

#include <spdlog/logger.h>

#include <memory>

namespace troupe::detail {

/// The shared "troupe" logger, created on first use. @threadsafe
std::shared_ptr<spdlog::logger> logger();

}  // namespace troupe::detail
