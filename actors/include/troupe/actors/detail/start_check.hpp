#pragma once
/// Not API. A check that runs first in every troupe::system constructor,
/// before the system starts anything. An extension sets it during static
/// initialization; the process backend uses it to stop a child process
/// whose program runs main() again instead of calling child_main().

namespace troupe::detail {

using system_start_check = void (*)();

/// Sets the check (null: none). One per process; the last one set wins.
void set_system_start_check(system_start_check check) noexcept;

/// Runs the check, if one is set.
void run_system_start_check();

}  // namespace troupe::detail
