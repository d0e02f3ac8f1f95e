// The checkerboard data set of the reference (facts.md section 1) and a checked CSV loader for a user's data.
#include "fhenn/nn/dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string_view>

#include "fhenn/common/error.hpp"
#include "fhenn/nn/random.hpp"

namespace fhenn::nn {
namespace {

constexpr int kGridSide = 100;
constexpr size_t kCheckerboardTestSize = 500;
constexpr double kCheckerboardNoiseStd = 0.01;
constexpr uint64_t kNoiseStream = 1;
constexpr uint64_t kSplitStream = 2;

// numpy.linspace(0, 1, n)[i]: i * step, with the last point exactly 1.
double linspace01(int i, int n) {
  return i == n - 1 ? 1.0 : static_cast<double>(i) * (1.0 / (n - 1));
}

// (rint(3x) mod 2) XOR (rint(3y) mod 2); rint rounds half to even (std::nearbyint in the default mode).
int64_t checkerboard_label(double x, double y) {
  const auto parity = [](double v) { return static_cast<int64_t>(std::nearbyint(3.0 * v)) % 2; };
  return parity(x) ^ parity(y);
}

// Rows `indices` of (features, labels) as a LabelledSet.
LabelledSet select_rows(const Matrix& features, const std::vector<int64_t>& labels, std::span<const size_t> indices) {
  LabelledSet out{Matrix(indices.size(), features.cols), {}};
  out.labels.reserve(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    std::ranges::copy(features.row(indices[k]), out.features.row(k).begin());
    out.labels.push_back(labels[indices[k]]);
  }
  return out;
}

// Splits by a permutation: its first `test_size` entries are the test set, the rest the training set.
void split_by_permutation(const Matrix& features, const std::vector<int64_t>& labels, size_t test_size,
                          uint64_t split_seed, Dataset& out) {
  SplitMix64 rng(split_seed);
  const auto order = random_permutation(labels.size(), rng);
  const std::span<const size_t> all(order);
  out.test = select_rows(features, labels, all.first(test_size));
  out.train = select_rows(features, labels, all.subspan(test_size));
}

// ---- CSV ----------------------------------------------------------------------------------------------------

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

// The whole field as a double, or nullopt when it is not one number.
std::optional<double> parse_double(std::string_view field) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || end != field.data() + field.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return std::strtod(std::string(field).c_str(), nullptr);  // +-inf or ~0
  if (ec != std::errc()) return std::nullopt;
  return value;
}

struct CsvLine {
  size_t number = 0;  // 1-based line in the file
  std::vector<std::string> fields;
};

struct CsvTable {
  std::vector<std::string> header;  // empty when the file has no header row
  std::vector<CsvLine> rows;
};

// Reads the non-blank lines; the first one is a header when one of its fields is not a number.
CsvTable read_csv_table(const std::filesystem::path& path) {
  std::ifstream in(path);
  FHENN_CHECK(in.good(), "cannot open the data file ", path.string(), ": check the path and permissions");
  CsvTable table;
  std::string text;
  for (size_t number = 1; std::getline(in, text); ++number) {
    if (!trim(text).empty()) table.rows.push_back({number, split_fields(text)});
  }
  FHENN_CHECK(!table.rows.empty(), "the data file ", path.string(), " is empty: expected comma-separated rows of ",
              "numeric features and an integer label");
  const auto& first = table.rows.front().fields;
  if (std::ranges::any_of(first, [](const std::string& f) { return !parse_double(f).has_value(); })) {
    for (const auto& f : first) table.header.emplace_back(unquote(f));
    table.rows.erase(table.rows.begin());
  }
  return table;
}

size_t find_label_column(const CsvTable& table, const std::string& label_column, const std::filesystem::path& path) {
  const size_t width = table.header.empty() ? table.rows.front().fields.size() : table.header.size();
  if (label_column.empty()) return width - 1;
  FHENN_CHECK(!table.header.empty(), path.string(), ": the label column '", label_column,
              "' was asked for, but the file has no header row (its first line is all numbers); add a header or ",
              "leave the label column unset to use the last column");
  const auto it = std::ranges::find(table.header, label_column);
  if (it == table.header.end()) {
    std::string names;
    for (const auto& name : table.header) names += (names.empty() ? "" : ", ") + name;
    fail(path.string(), ":", table.rows.empty() ? 1 : table.rows.front().number - 1, ": no column named '",
         label_column, "' in the header; the columns are: ", names);
  }
  return static_cast<size_t>(it - table.header.begin());
}

std::string column_name(const CsvTable& table, size_t column) {
  return table.header.empty() ? concat("column ", column + 1)
                              : concat("column ", column + 1, " ('", table.header[column], "')");
}

double parse_feature(const CsvTable& table, const CsvLine& row, size_t column, const std::filesystem::path& path) {
  const std::string& field = row.fields[column];
  const auto value = parse_double(field);
  FHENN_CHECK(value.has_value(), path.string(), ":", row.number, ": ", column_name(table, column), ": '", field,
              "' is not a number");
  FHENN_CHECK(std::isfinite(*value), path.string(), ":", row.number, ": ", column_name(table, column), ": '", field,
              "' is not a finite number (NaN and infinities are not valid features)");
  return *value;
}

int64_t parse_label(const CsvTable& table, const CsvLine& row, size_t column, const std::filesystem::path& path) {
  const std::string& field = row.fields[column];
  const auto value = parse_double(field);
  const bool is_class =
      value.has_value() && std::isfinite(*value) && *value >= 0 && *value < 1e9 && *value == std::floor(*value);
  FHENN_CHECK(is_class, path.string(), ":", row.number, ": ", column_name(table, column), ": the label '", field,
              "' is not a class number (labels must be integers 0, 1, 2, ...)");
  return static_cast<int64_t>(*value);
}

}  // namespace

Dataset make_checkerboard(uint64_t seed) {
  const size_t n = static_cast<size_t>(kGridSide) * kGridSide;
  Matrix points(n, 2);
  std::vector<int64_t> labels(n);
  SplitMix64 noise(derive_seed(seed, kNoiseStream));
  for (int iy = 0; iy < kGridSide; ++iy) {
    for (int ix = 0; ix < kGridSide; ++ix) {  // x varies fastest, as numpy.meshgrid(x, y) then ravel()
      const size_t i = static_cast<size_t>(iy) * kGridSide + ix;
      const double x = linspace01(ix, kGridSide);
      const double y = linspace01(iy, kGridSide);
      labels[i] = checkerboard_label(x, y);  // labelled before the noise, as the reference
      points.at(i, 0) = x + kCheckerboardNoiseStd * noise.normal();
      points.at(i, 1) = y + kCheckerboardNoiseStd * noise.normal();
    }
  }
  Dataset data;
  data.num_features = 2;
  data.num_classes = 2;
  split_by_permutation(points, labels, kCheckerboardTestSize, derive_seed(seed, kSplitStream), data);
  return data;
}

Dataset load_csv(const std::filesystem::path& path, const std::string& label_column, double test_fraction,
                 uint64_t seed) {
  FHENN_CHECK(test_fraction > 0.0 && test_fraction < 1.0, "the test fraction must be in (0, 1), got ", test_fraction);
  const CsvTable table = read_csv_table(path);
  FHENN_CHECK(!table.rows.empty(), path.string(), ": the file has a header row but no data rows");
  const size_t width = table.header.empty() ? table.rows.front().fields.size() : table.header.size();
  FHENN_CHECK(width >= 2, path.string(), ": each row needs at least one feature and a label; found ", width, " column");
  const size_t label_index = find_label_column(table, label_column, path);

  Matrix features(table.rows.size(), width - 1);
  std::vector<int64_t> labels(table.rows.size());
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const CsvLine& row = table.rows[r];
    FHENN_CHECK(row.fields.size() == width, path.string(), ":", row.number, ": ragged row: ", row.fields.size(),
                " columns where ", table.header.empty() ? "the first row has " : "the header has ", width);
    size_t feature = 0;
    for (size_t c = 0; c < width; ++c) {
      if (c == label_index) {
        labels[r] = parse_label(table, row, c, path);
      } else {
        features.at(r, feature++) = parse_feature(table, row, c, path);
      }
    }
  }
  const int64_t max_label = *std::ranges::max_element(labels);
  FHENN_CHECK(max_label >= 1, path.string(), ": every label is ", max_label,
              "; a classifier needs at least two classes (labels 0 and 1)");
  const size_t n = labels.size();
  const auto test_size = static_cast<size_t>(std::llround(test_fraction * static_cast<double>(n)));
  FHENN_CHECK(test_size >= 1 && test_size < n, path.string(), ": ", n, " rows cannot be split with test fraction ",
              test_fraction, " into non-empty training and test sets");

  Dataset data;
  data.num_features = static_cast<int>(width - 1);
  data.num_classes = static_cast<int>(max_label + 1);
  split_by_permutation(features, labels, test_size, derive_seed(seed, kSplitStream), data);
  return data;
}

}  // namespace fhenn::nn
