// Command-line options that choose how a circuit is planned for the engine (shared by compile, demo, bench).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "fhenn/runtime/engine_plan.hpp"

namespace fhenn::cli {

struct PlanFlags {
  double p_error = 0x1p-40;
  double global_p_error = 0.0;  // 0: unset
  std::string parameter_set;
  std::string ranges = "worst-case";
  bool insecure = false;
  int output_bits = 0;  // 0: every bit exact

  // --p-error, --global-p-error (decimal or 2^-k), --parameter-set, --ranges, --output-bits, --insecure.
  void add_to(CLI::App& cmd);
  // Checks the values (throws fhenn::Error) and converts them.
  runtime::PlanOptions options() const;
};

// A probability written as a decimal ("1e-12", "0.001") or as a power ("2^-64", "2^-128", "2^-40.5"). Throws
// fhenn::Error naming `flag` when the text is neither or the value lies outside (0, 1).
double parse_probability(std::string_view text, std::string_view flag);

}  // namespace fhenn::cli
