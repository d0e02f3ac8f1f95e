// Reading comma-separated numeric tables (see csv.hpp).
#include "fhenn/common/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "fhenn/common/error.hpp"

namespace fhenn {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::string_view unquote(std::string_view s) {
  return s.size() >= 2 && s.front() == '"' && s.back() == '"' ? s.substr(1, s.size() - 2) : s;
}

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.emplace_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

}  // namespace

std::optional<double> parse_csv_number(std::string_view field) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || end != field.data() + field.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return std::strtod(std::string(field).c_str(), nullptr);  // +-inf or ~0
  if (ec != std::errc()) return std::nullopt;
  return value;
}

std::string CsvTable::column_name(size_t column) const {
  return header.empty() ? concat("column ", column + 1) : concat("column ", column + 1, " ('", header[column], "')");
}

size_t CsvTable::find_column(const std::string& name) const {
  FHENN_CHECK(!header.empty(), path.string(), ": the column '", name,
              "' was asked for, but the file has no header row (its first line is all numbers); add a header or ",
              "leave the column unset to use the last column");
  const auto it = std::ranges::find(header, name);
  if (it == header.end()) {
    std::string names;
    for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
    fail(path.string(), ":", rows.empty() ? 1 : rows.front().number - 1, ": no column named '", name,
         "' in the header; the columns are: ", names);
  }
  return static_cast<size_t>(it - header.begin());
}

CsvTable read_csv_table(const std::filesystem::path& path) {
  std::ifstream in(path);
  FHENN_CHECK(in.good(), "cannot open the data file ", path.string(), ": check the path and permissions");
  CsvTable table;
  table.path = path;
  std::string text;
  for (size_t number = 1; std::getline(in, text); ++number) {
    if (!trim(text).empty()) table.rows.push_back({number, split_fields(text)});
  }
  FHENN_CHECK(!table.rows.empty(), "the data file ", path.string(), " is empty: expected comma-separated rows of ",
              "numbers");
  const auto& first = table.rows.front().fields;
  if (std::ranges::any_of(first, [](const std::string& f) { return !parse_csv_number(f).has_value(); })) {
    for (const auto& f : first) table.header.emplace_back(unquote(f));
    table.rows.erase(table.rows.begin());
  }
  FHENN_CHECK(!table.rows.empty(), path.string(), ": the file has a header row but no data rows");
  return table;
}

double parse_csv_feature(const CsvTable& table, const CsvLine& row, size_t column) {
  const std::string& field = row.fields[column];
  const auto value = parse_csv_number(field);
  FHENN_CHECK(value.has_value(), table.path.string(), ":", row.number, ": ", table.column_name(column), ": '", field,
              "' is not a number");
  FHENN_CHECK(std::isfinite(*value), table.path.string(), ":", row.number, ": ", table.column_name(column), ": '",
              field, "' is not a finite number (NaN and infinities are not valid features)");
  return *value;
}

void check_csv_row_width(const CsvTable& table, const CsvLine& row) {
  FHENN_CHECK(row.fields.size() == table.width(), table.path.string(), ":", row.number, ": ragged row: ",
              row.fields.size(), " columns where ", table.header.empty() ? "the first row has " : "the header has ",
              table.width());
}

Matrix csv_feature_matrix(const CsvTable& table, std::optional<size_t> skip_column) {
  const size_t width = table.width();
  const size_t features = width - (skip_column ? 1 : 0);
  FHENN_CHECK(features >= 1, table.path.string(), ": no feature columns");
  Matrix m(table.rows.size(), features);
  for (size_t r = 0; r < table.rows.size(); ++r) {
    check_csv_row_width(table, table.rows[r]);
    size_t f = 0;
    for (size_t c = 0; c < width; ++c) {
      if (skip_column && c == *skip_column) continue;
      m.at(r, f++) = parse_csv_feature(table, table.rows[r], c);
    }
  }
  return m;
}

}  // namespace fhenn
