#pragma once
// The process pool's child side (run by child_main in pool mode).

#include <cstddef>
#include <span>
#include <string_view>

namespace troupe::nodes::detail {

/// The name a pool worker is spawned with.
inline constexpr std::string_view pool_worker_name = "troupe.process_pool.worker";

/// Runs one `call` frame body and sends the reply (child main thread).
void run_pool_call(std::span<const std::byte> body);

}  // namespace troupe::nodes::detail
