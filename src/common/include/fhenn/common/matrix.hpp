// A dense row-major matrix of doubles: data sets, calibration inputs and batches of scores.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "fhenn/common/assert.hpp"

namespace fhenn {

struct Matrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> values;  // rows * cols, row-major

  Matrix() = default;
  Matrix(size_t r, size_t c) : rows(r), cols(c), values(r * c, 0.0) {}

  std::span<const double> row(size_t i) const {
    FHENN_ASSERT_LT(i, rows);
    return {values.data() + i * cols, cols};
  }
  std::span<double> row(size_t i) {
    FHENN_ASSERT_LT(i, rows);
    return {values.data() + i * cols, cols};
  }
  double& at(size_t i, size_t j) { return values[i * cols + j]; }
  double at(size_t i, size_t j) const { return values[i * cols + j]; }
};

}  // namespace fhenn
