// Reading comma-separated numeric tables with errors that name the file, line and column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhenn/common/matrix.hpp"

namespace fhenn {

struct CsvLine {
  size_t number = 0;  // 1-based line in the file
  std::vector<std::string> fields;
};

struct CsvTable {
  std::filesystem::path path;
  std::vector<std::string> header;  // empty when the file has no header row
  std::vector<CsvLine> rows;

  size_t width() const { return header.empty() ? rows.front().fields.size() : header.size(); }
  // "column 3 ('age')" or "column 3".
  std::string column_name(size_t column) const;
  // The index of the column named `name`; throws fhenn::Error listing the columns when there is none.
  size_t find_column(const std::string& name) const;
};

// What the reader accepts, far above any real data set (MNIST as CSV: 110 MB, 785 columns, 5.5 * 10^7 fields),
// so that a file can never make it allocate without bound (each field costs a string of about 32 bytes).
inline constexpr uint64_t kMaxCsvBytes = uint64_t{1} << 30;   // the whole file
inline constexpr size_t kMaxCsvLineBytes = size_t{16} << 20;  // one line
inline constexpr uint64_t kMaxCsvFields = uint64_t{1} << 27;  // fields over all lines

// Reads the non-blank lines; the first one is a header when one of its fields is not a number. Throws
// fhenn::Error for a file that cannot be opened, is empty, or is above the limits.
CsvTable read_csv_table(const std::filesystem::path& path);

// read_csv_table on text already in memory; `path` names it in messages (and becomes the table's path).
CsvTable parse_csv_text(std::string_view text, const std::filesystem::path& path);

// The whole field as a double (inf and nan included), or nullopt when it is not one number.
std::optional<double> parse_csv_number(std::string_view field);

// A finite number, or fhenn::Error naming file, line and column.
double parse_csv_feature(const CsvTable& table, const CsvLine& row, size_t column);

// Throws fhenn::Error for a row whose field count differs from the table's width.
void check_csv_row_width(const CsvTable& table, const CsvLine& row);

// Every column but `skip_column` (if any) as finite features, one row per line.
Matrix csv_feature_matrix(const CsvTable& table, std::optional<size_t> skip_column);

}  // namespace fhenn
