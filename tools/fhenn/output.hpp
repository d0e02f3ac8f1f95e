// Output helpers shared by the subcommands: JSON to a file or stdout, markdown tables.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fhenn::cli {

// Writes `value` pretty-printed to `path`, or to stdout when path is "-".
void write_json(const nlohmann::json& value, const std::string& path);

// Renders a markdown table (header row, separator, rows) with columns padded to equal width.
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// The CPU's model name as /proc/cpuinfo gives it (lscpu's "Model name"), or "unknown CPU".
std::string cpu_model();

// Formats a fraction as a percentage with two decimals ("95.40%").
std::string percent(double fraction);

}  // namespace fhenn::cli
