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
    fields.emplace_back(
        trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// The whole file, refused above kMaxCsvBytes (read in blocks: pipes and devices have no size to ask for).
std::string read_capped(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  FHENN_CHECK(in.good(), "cannot open the data file ", path.string(), ": check the path and permissions");
  std::string text;
  std::vector<char> block(size_t{1} << 16);
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
    const auto n = static_cast<size_t>(in.gcount());
    FHENN_CHECK(text.size() + n <= kMaxCsvBytes, "the data file ", path.string(), " is larger than ",
                kMaxCsvBytes >> 20, " MiB, the most fhenn reads at once: split it into smaller files");
    text.append(block.data(), n);
  }
  FHENN_CHECK(!in.bad(), "error while reading the data file ", path.string());
  return text;
}

// One line's fields, after checking the line's length and the running field count against the limits.
std::vector<std::string> checked_fields(std::string_view line, size_t number, uint64_t& fields,
                                        const std::filesystem::path& path) {
  FHENN_CHECK(line.size() <= kMaxCsvLineBytes, path.string(), ":", number, ": the line is ", line.size(),
              " bytes long; lines of more than ", kMaxCsvLineBytes >> 20,
              " MiB are refused: is this a comma-separated table of numbers?");
  fields += static_cast<uint64_t>(std::ranges::count(line, ',')) + 1;
  FHENN_CHECK(fields <= kMaxCsvFields, path.string(), ":", number, ": the file has more than ", kMaxCsvFields,
              " fields, the most fhenn reads at once: split it into smaller files");
  return split_fields(line);
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
  return parse_csv_text(read_capped(path), path);
}

CsvTable parse_csv_text(std::string_view text, const std::filesystem::path& path) {
  FHENN_CHECK(text.size() <= kMaxCsvBytes, "the data file ", path.string(), " is larger than ", kMaxCsvBytes >> 20,
              " MiB, the most fhenn reads at once: split it into smaller files");
  CsvTable table;
  table.path = path;
  uint64_t fields = 0;
  for (size_t number = 1, start = 0; start < text.size(); ++number) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    if (!trim(line).empty()) table.rows.push_back({number, checked_fields(line, number, fields, path)});
    start = end + 1;
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
  FHENN_CHECK(row.fields.size() == table.width(), table.path.string(), ":", row.number,
              ": ragged row: ", row.fields.size(), " columns where ",
              table.header.empty() ? "the first row has " : "the header has ", table.width());
}

Matrix csv_feature_matrix(const CsvTable& table, std::optional<size_t> skip_column) {
  const size_t width = table.width();
  const size_t features = width - (skip_column ? 1 : 0);
  FHENN_CHECK(features >= 1, table.path.string(), ": no feature columns");
  FHENN_CHECK(!skip_column || *skip_column < width, table.path.string(), ": there is no column ", *skip_column + 1,
              " to leave out: the table has ", width, " columns");
  for (const CsvLine& row : table.rows) check_csv_row_width(table, row);  // before allocating rows x width
  Matrix m(table.rows.size(), features);
  for (size_t r = 0; r < table.rows.size(); ++r) {
    size_t f = 0;
    for (size_t c = 0; c < width; ++c) {
      if (skip_column && c == *skip_column) continue;
      m.at(r, f++) = parse_csv_feature(table, table.rows[r], c);
    }
  }
  return m;
}

}  // namespace fhenn
