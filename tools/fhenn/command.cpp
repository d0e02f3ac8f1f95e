// The registry of `fhenn` subcommands (see command.hpp).
#include "command.hpp"

#include <algorithm>
#include <map>

namespace fhenn::cli {
namespace {

std::multimap<std::string, CommandSetup>& registry() {
  static std::multimap<std::string, CommandSetup> commands;
  return commands;
}

}  // namespace

bool register_command(std::string sort_key, CommandSetup setup) {
  registry().emplace(std::move(sort_key), std::move(setup));
  return true;
}

std::vector<CommandSetup> registered_commands() {
  std::vector<CommandSetup> setups;
  for (const auto& [key, setup] : registry()) setups.push_back(setup);
  return setups;
}

CLI::App& subcommand_group(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* existing : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (existing->get_name() == name) return *existing;
  }
  CLI::App* group = parent.add_subcommand(name, description);
  group->require_subcommand(1);
  return *group;
}

}  // namespace fhenn::cli
