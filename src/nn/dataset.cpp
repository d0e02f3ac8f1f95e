// The checkerboard data set of the reference (Concrete ML documentation), a checked CSV loader for a user's data,
// and the packaged data sets (Iris and digits from python3-sklearn, Fashion-MNIST).
#include "fhenn/nn/dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string_view>

#include "fhenn/common/csv.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/gzip.hpp"
#include "fhenn/common/idx.hpp"
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

int64_t parse_label(const CsvTable& table, const CsvLine& row, size_t column) {
  const std::filesystem::path& path = table.path;
  const std::string& field = row.fields[column];
  const auto value = parse_csv_number(field);
  const bool is_class =
      value.has_value() && std::isfinite(*value) && *value >= 0 && *value < 1e9 && *value == std::floor(*value);
  FHENN_CHECK(is_class, path.string(), ":", row.number, ": ", table.column_name(column), ": the label '", field,
              "' is not a class number (labels must be integers 0, 1, 2, ...)");
  return static_cast<int64_t>(*value);
}

// A CSV file, gunzipped first when its name ends in ".gz" (within the CSV reader's limits either way).
CsvTable read_data_table(const std::filesystem::path& path) {
  if (path.extension() != ".gz") return read_csv_table(path);
  const std::vector<uint8_t> bytes = read_maybe_gzip_file(path, kMaxCsvBytes);
  return parse_csv_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

// Throws fhenn::Error unless `data`, read from `path`, has the shape its package ships.
void expect_shape(const Dataset& data, const std::filesystem::path& path, size_t rows, int features, int classes) {
  FHENN_CHECK(
      data.train.size() + data.test.size() == rows && data.num_features == features && data.num_classes == classes,
      path.string(), " holds ", data.train.size() + data.test.size(), " samples of ", data.num_features,
      " features and ", data.num_classes, " classes, not the ", rows, " x ", features, " of ", classes,
      " classes it ships with: reinstall python3-sklearn");
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

double checkerboard_rule_accuracy(const LabelledSet& set) {
  size_t correct = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    correct += checkerboard_label(set.features.at(i, 0), set.features.at(i, 1)) == set.labels[i];
  }
  return set.size() == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(set.size());
}

Dataset load_csv(const std::filesystem::path& path, const std::string& label_column, double test_fraction,
                 uint64_t seed) {
  FHENN_CHECK(test_fraction > 0.0 && test_fraction < 1.0, "the test fraction must be in (0, 1), got ", test_fraction);
  const CsvTable table = read_data_table(path);
  const size_t width = table.width();
  FHENN_CHECK(width >= 2, path.string(), ": each row needs at least one feature and a label; found ", width, " column");
  const size_t label_index = label_column.empty() ? width - 1 : table.find_column(label_column);

  Matrix features(table.rows.size(), width - 1);
  std::vector<int64_t> labels(table.rows.size());
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const CsvLine& row = table.rows[r];
    check_csv_row_width(table, row);
    size_t feature = 0;
    for (size_t c = 0; c < width; ++c) {
      if (c == label_index) {
        labels[r] = parse_label(table, row, c);
      } else {
        features.at(r, feature++) = parse_csv_feature(table, row, c);
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

namespace {

// One split: its images (N x 28 x 28) and labels (N, each below 10), the first `limit` of them (0: all).
LabelledSet fashion_mnist_split(const std::filesystem::path& dir, const std::string& prefix, size_t limit) {
  const std::filesystem::path images_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const std::filesystem::path labels_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  const IdxArray images = read_idx_file(images_path);
  const IdxArray labels = read_idx_file(labels_path);
  FHENN_CHECK(images.dims.size() == 3 && images.dims[1] == 28 && images.dims[2] == 28, images_path.string(),
              " does not hold 28 x 28 images");
  FHENN_CHECK(labels.dims.size() == 1 && labels.dims[0] == images.dims[0], labels_path.string(), " holds ",
              labels.values.size(), " labels for ", images.dims[0], " images");
  const size_t n = limit == 0 ? images.dims[0] : std::min(limit, images.dims[0]);
  constexpr size_t kPixels = 28 * 28;
  LabelledSet set;
  set.features = Matrix(n, kPixels);
  for (size_t k = 0; k < n * kPixels; ++k) set.features.values[k] = images.values[k] / 255.0;
  for (size_t i = 0; i < n; ++i) {
    FHENN_CHECK(labels.values[i] < 10, labels_path.string(), ": label ", int{labels.values[i]}, " of image ", i,
                " is not a class 0..9");
    set.labels.push_back(labels.values[i]);
  }
  return set;
}

}  // namespace

Dataset load_iris(double test_fraction, uint64_t seed, const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "iris.csv";
  Dataset data = load_csv(path, "", test_fraction, seed);
  expect_shape(data, path, 150, 4, 3);
  return data;
}

Dataset load_digits(double test_fraction, uint64_t seed, const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "digits.csv.gz";
  Dataset data = load_csv(path, "", test_fraction, seed);
  expect_shape(data, path, 1797, 64, 10);
  for (LabelledSet* set : {&data.train, &data.test}) {
    for (double& v : set->features.values) {
      FHENN_CHECK(v >= 0.0 && v <= 16.0 && v == std::floor(v), path.string(), ": a pixel is ", v,
                  "; the digits' pixels are integers 0..16");
      v /= 16.0;
    }
  }
  return data;
}

Dataset load_fashion_mnist(const std::filesystem::path& dir, size_t max_train, size_t max_test) {
  Dataset data;
  data.train = fashion_mnist_split(dir, "train", max_train);
  data.test = fashion_mnist_split(dir, "t10k", max_test);
  data.num_features = 28 * 28;
  data.num_classes = 10;
  return data;
}

}  // namespace fhenn::nn
