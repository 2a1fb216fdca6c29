// The one Catch2 v2 main() shared by every test binary (v2 has no
// Catch2::Catch2WithMain); compiled once as troupe_catch_main.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
