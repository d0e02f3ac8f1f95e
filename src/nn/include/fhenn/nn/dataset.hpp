// Labelled data sets: the reference's checkerboard (Concrete ML documentation), a user's CSV, and the packaged
// ones (Iris, digits, Fashion-MNIST).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fhenn/common/matrix.hpp"

namespace fhenn::nn {

// Features (one row per sample) and integer class labels in [0, num_classes).
struct LabelledSet {
  Matrix features;
  std::vector<int64_t> labels;
  size_t size() const { return labels.size(); }
};

struct Dataset {
  LabelledSet train;
  LabelledSet test;
  int num_features = 0;
  int num_classes = 0;
};

// The 100 x 100 checkerboard grid on [0,1]^2, labelled (rint(3x) mod 2) XOR (rint(3y) mod 2), then
// Gaussian noise (std 0.01) added to both coordinates, split by a random permutation into 500 test and
// 9,500 train points. Everything random derives from `seed`, identically on every machine.
Dataset make_checkerboard(uint64_t seed);

// The checkerboard's own labelling rule applied to a set's (noisy) coordinates: the accuracy of a classifier
// that reproduces the board exactly, i.e. the ceiling the noise sets on any model's accuracy on this set.
double checkerboard_rule_accuracy(const LabelledSet& set);

// Reads a CSV (gzipped when its name ends in ".gz") of numeric features with an integer label column (by name from
// a header row, or the last column when label_column is empty), split into train/test with `test_fraction` by a
// seeded permutation.
// Throws fhenn::Error naming the file, line and column for ragged rows, non-numbers, NaN/inf, an empty
// file or a missing label column.
Dataset load_csv(const std::filesystem::path& path, const std::string& label_column, double test_fraction,
                 uint64_t seed);

// Where Debian's python3-sklearn installs its data files (scikit-learn's sklearn/datasets/data).
inline constexpr const char* kSklearnDataDir = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

// Iris (Fisher 1936, as scikit-learn ships it: iris.csv): 150 flowers, 4 measurements in cm, 3 species, split as
// load_csv. Throws fhenn::Error naming the file when it is missing or not the shipped table.
Dataset load_iris(double test_fraction, uint64_t seed, const std::filesystem::path& dir = kSklearnDataDir);

// The 8 x 8 digits (UCI optical recognition of handwritten digits, as scikit-learn ships it: digits.csv.gz):
// 1,797 images, 64 pixels 0..16 scaled to [0, 1] (row by row), 10 classes, split as load_csv.
Dataset load_digits(double test_fraction, uint64_t seed, const std::filesystem::path& dir = kSklearnDataDir);

// Where Debian's dataset-fashion-mnist package installs the gzipped IDX files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 60,000 training and 10,000 test 28 x 28 grey images of 10
// classes, as shipped (train-images-idx3-ubyte.gz, ...), pixels scaled to [0, 1] (784 features, row by row). The
// first `max_train` and `max_test` images of each split (0: all). Throws fhenn::Error naming the file for a
// missing or malformed one, or images and labels that disagree.
Dataset load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir, size_t max_train = 0,
                           size_t max_test = 0);

}  // namespace fhenn::nn
