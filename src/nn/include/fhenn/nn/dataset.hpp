// Labelled data sets: the reference's checkerboard (Concrete ML documentation) and a user's CSV.
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

// Reads a CSV of numeric features with an integer label column (by name from a header row, or the last
// column when label_column is empty), split into train/test with `test_fraction` by a seeded permutation.
// Throws fhenn::Error naming the file, line and column for ragged rows, non-numbers, NaN/inf, an empty
// file or a missing label column.
Dataset load_csv(const std::filesystem::path& path, const std::string& label_column, double test_fraction,
                 uint64_t seed);

}  // namespace fhenn::nn
