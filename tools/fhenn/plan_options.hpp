// Command-line options that choose how a circuit is planned for the engine (shared by compile, demo, bench).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "fhenn/runtime/engine_plan.hpp"

namespace fhenn::cli {

struct PlanFlags {
  double p_error = 0x1p-40;
  double global_p_error = 0.0;  // 0: unset
  std::string parameter_set;
  std::string ranges = "worst-case";

  // --p-error, --global-p-error, --parameter-set, --ranges.
  void add_to(CLI::App& cmd);
  // Checks the values (throws fhenn::Error) and converts them.
  runtime::PlanOptions options() const;
};

}  // namespace fhenn::cli
