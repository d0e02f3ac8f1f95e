// Shared by the GraphNet tests: random pixel rows and the digits networks' training recipe.
#pragma once

#include "fhenn/common/matrix.hpp"
#include "fhenn/nn/random.hpp"
#include "fhenn/nn/training.hpp"

namespace fhenn::nn::testing {

// `rows` x `cols` values uniform in [0, 1), from `seed`.
inline Matrix random_rows(size_t rows, size_t cols, uint64_t seed) {
  SplitMix64 rng(seed);
  Matrix m(rows, cols);
  for (double& v : m.values) v = rng.uniform(0.0, 1.0);
  return m;
}

// The digits networks' training: batch 16, lr 0.01, seed 3, quiet.
inline TrainOptions digits_training(int epochs) {
  TrainOptions options;
  options.epochs = epochs;
  options.batch_size = 16;
  options.learning_rate = 0.01;
  options.seed = 3;
  options.show_progress = false;
  return options;
}

}  // namespace fhenn::nn::testing
