// The registry of `fhenn` subcommands: each cmd_*.cpp registers itself with FHENN_REGISTER_COMMAND.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fhenn::cli {

// Adds a subcommand (and its callback) to the root application.
using CommandSetup = std::function<void(CLI::App& root)>;

// Registers a setup function; called from static initialisers, run in name order by main().
bool register_command(std::string sort_key, CommandSetup setup);
std::vector<CommandSetup> registered_commands();

// The subcommand `name` of `parent`, created with `description` if it does not exist yet
// (for groups such as `experiment ptq` / `experiment qat` defined in different files).
CLI::App& subcommand_group(CLI::App& parent, const std::string& name, const std::string& description);

}  // namespace fhenn::cli

#define FHENN_CONCAT_INNER(a, b) a##b
#define FHENN_CONCAT(a, b) FHENN_CONCAT_INNER(a, b)
#define FHENN_REGISTER_COMMAND(sort_key, setup_function) \
  static const bool FHENN_CONCAT(fhenn_registered_, __LINE__) = ::fhenn::cli::register_command(sort_key, setup_function)
