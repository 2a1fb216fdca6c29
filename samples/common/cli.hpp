#pragma once
// Command-line parsing shared by the pipeline samples, on CLI11 (Debian's
// libcli11-dev). One convention for all of them: `--help` prints the usage
// on stdout and exits 0; a bad argument prints one line naming it on stderr
// and exits 2.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

namespace sample_cli {

/// Parses argv into the options bound to `app`. Returns the exit status when
/// the program must stop now (0 after --help, 2 after a bad argument), or
/// nullopt when it should go on.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      std::cout << app.help();
      return 0;
    }
    std::cerr << app.get_name() << ": " << e.what() << "\n(run with --help for usage)\n";
    return 2;
  }
}

}  // namespace sample_cli
