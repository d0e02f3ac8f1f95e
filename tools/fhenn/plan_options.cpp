// Command-line options that choose how a circuit is planned for the engine (see plan_options.hpp).
#include "plan_options.hpp"

#include <charconv>
#include <cmath>
#include <optional>

#include "fhenn/common/error.hpp"

namespace fhenn::cli {
namespace {

// The whole of `text` as a double, or nothing.
std::optional<double> parse_number(std::string_view text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

double parse_probability(std::string_view text, std::string_view flag) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::optional<double> value;
  if (const size_t caret = text.find('^'); caret != std::string_view::npos) {
    const auto base = parse_number(text.substr(0, caret)), exponent = parse_number(text.substr(caret + 1));
    if (base && exponent && *base > 0.0) value = std::pow(*base, *exponent);
  } else {
    value = parse_number(text);
  }
  FHENN_CHECK(value.has_value(), flag, " takes a probability such as 1e-12 or 2^-64, got '", text, "'");
  FHENN_CHECK(*value > 0.0 && *value < 1.0, flag, " must lie in (0, 1), got ", text, " = ", *value);
  return *value;
}

void PlanFlags::add_to(CLI::App& cmd) {
  cmd.add_option_function<std::string>(
         "--p-error", [this](const std::string& text) { p_error = parse_probability(text, "--p-error"); },
         "Failure probability per table lookup: a decimal or a power such as 2^-64 or 2^-128 (default 2^-40)")
      ->type_name("P");
  cmd.add_option_function<std::string>(
         "--global-p-error",
         [this](const std::string& text) { global_p_error = parse_probability(text, "--global-p-error"); },
         "Failure probability for a whole inference instead (divided over its lookups; decimal or 2^-k)")
      ->type_name("P");
  cmd.add_option("--parameter-set", parameter_set, "Force a named TFHE parameter set (see `fhenn bench tfhe`)");
  cmd.add_flag("--insecure", insecure,
               "Accept a forced parameter set below 128-bit security (tests and experiments only; marked INSECURE)");
  cmd.add_option("--ranges", ranges,
                 "Size encodings from the worst case (exact for every input, default) or from the ranges seen on "
                 "the data (narrower, cheaper; an unseen input may overflow)")
      ->check(CLI::IsMember({"worst-case", "seen"}));
  cmd.add_option("--output-bits", output_bits,
                 "Decrypt each output exactly to its K most significant bits only, the lower ones carrying the "
                 "bootstraps' noise: for wide scores that no 128-bit set decrypts exactly (0: every bit)")
      ->check(CLI::Range(0, 62))
      ->capture_default_str();
}

runtime::PlanOptions PlanFlags::options() const {
  runtime::PlanOptions o;
  FHENN_CHECK(p_error > 0 && p_error < 1, "--p-error must lie in (0, 1), got ", p_error);
  o.p_error = p_error;
  if (global_p_error != 0.0) {
    FHENN_CHECK(global_p_error > 0 && global_p_error < 1, "--global-p-error must lie in (0, 1), got ", global_p_error);
    o.global_p_error = global_p_error;
  }
  if (!parameter_set.empty()) o.parameter_set = parameter_set;
  o.allow_insecure = insecure;
  o.ranges = ranges == "seen" ? runtime::RangeSource::seen : runtime::RangeSource::worst_case;
  o.output_bits = output_bits;
  return o;
}

}  // namespace fhenn::cli
