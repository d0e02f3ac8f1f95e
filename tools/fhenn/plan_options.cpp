// Command-line options that choose how a circuit is planned for the engine (see plan_options.hpp).
#include "plan_options.hpp"

#include "fhenn/common/error.hpp"

namespace fhenn::cli {

void PlanFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--p-error", p_error, "Failure probability per table lookup (default 2^-40)");
  cmd.add_option("--global-p-error", global_p_error,
                 "Failure probability for a whole inference instead (divided over its lookups)");
  cmd.add_option("--parameter-set", parameter_set, "Force a named TFHE parameter set (see `fhenn bench tfhe`)");
  cmd.add_option("--ranges", ranges,
                 "Size encodings from the worst case (exact for every input, default) or from the ranges seen on "
                 "the data (narrower, cheaper; an unseen input may overflow)")
      ->check(CLI::IsMember({"worst-case", "seen"}));
}

runtime::PlanOptions PlanFlags::options() const {
  runtime::PlanOptions o;
  FHENN_CHECK(p_error > 0 && p_error < 1, "--p-error must lie in (0, 1), got ", p_error);
  o.p_error = p_error;
  if (global_p_error != 0.0) {
    FHENN_CHECK(global_p_error > 0 && global_p_error < 1, "--global-p-error must lie in (0, 1), got ",
                global_p_error);
    o.global_p_error = global_p_error;
  }
  if (!parameter_set.empty()) o.parameter_set = parameter_set;
  o.ranges = ranges == "seen" ? runtime::RangeSource::seen : runtime::RangeSource::worst_case;
  return o;
}

}  // namespace fhenn::cli
