// Output helpers shared by the subcommands (see output.hpp).
#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "fhenn/common/error.hpp"

namespace fhenn::cli {

void write_json(const nlohmann::json& value, const std::string& path) {
  if (path == "-") {
    std::cout << value.dump(2) << '\n';
    return;
  }
  std::ofstream file(path);
  FHENN_CHECK(file.good(), "cannot write JSON to '", path, "': check the directory and permissions");
  file << value.dump(2) << '\n';
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
  }
  return "unknown CPU";
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 3);
  for (size_t c = 0; c < header.size(); ++c) widths[c] = std::max(widths[c], header[c].size());
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      out += " " + cell + std::string(widths[c] - cell.size(), ' ') + " |";
    }
    return out + "\n";
  };
  std::string out = line(header);
  out += "|";
  for (size_t w : widths) out += std::string(w + 2, '-') + "|";
  out += "\n";
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", fraction * 100.0);
  return buf;
}

}  // namespace fhenn::cli
