// Entry point of the `fhenn` command: builds the CLI from the registered subcommands and runs one.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "command.hpp"
#include "fhenn/common/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "fhenn: train, quantize and compile small neural networks, then run them on encrypted data (TFHE).\n"
      "Start with `fhenn demo`; each subcommand has its own --help."};
  app.require_subcommand(1);
  app.fallthrough(false);
  for (const auto& setup : fhenn::cli::registered_commands()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fhenn::Error& e) {
    std::fprintf(stderr, "fhenn: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhenn: unexpected error: %s\n", e.what());
    return 2;
  }
  return 0;
}
