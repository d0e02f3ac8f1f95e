// Seeded random networks and data for compiler and runtime tests (no torch).
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/model.hpp"

namespace fhenn::testing {

// A ReLU network of the given sizes (sizes[0] inputs, last = classes), weights ~ N(0, 1/fan_in) scaled,
// biases ~ U(-0.3, 0.3). max_non_zero > 0 keeps only that many largest-magnitude weights per neuron.
inline compiler::FloatMlp random_float_mlp(const std::vector<int>& sizes, uint32_t seed, int max_non_zero = 0) {
  std::mt19937 rng(seed);
  compiler::FloatMlp model;
  model.input_size = sizes.front();
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    compiler::DenseLayer layer;
    layer.name = "fc" + std::to_string(l + 1);
    layer.in_features = sizes[l];
    layer.out_features = sizes[l + 1];
    std::normal_distribution<double> weight(0.0, 1.5 / std::sqrt(static_cast<double>(sizes[l])));
    std::uniform_real_distribution<double> bias(-0.3, 0.3);
    for (int k = 0; k < sizes[l] * sizes[l + 1]; ++k) layer.weight.push_back(weight(rng));
    for (int k = 0; k < sizes[l + 1]; ++k) layer.bias.push_back(bias(rng));
    if (max_non_zero > 0 && max_non_zero < sizes[l]) {
      for (int i = 0; i < sizes[l + 1]; ++i) {
        std::vector<double> row(layer.weight.begin() + i * sizes[l], layer.weight.begin() + (i + 1) * sizes[l]);
        std::vector<double> magnitudes;
        for (double w : row) magnitudes.push_back(std::abs(w));
        std::nth_element(magnitudes.begin(), magnitudes.begin() + (sizes[l] - max_non_zero), magnitudes.end());
        const double threshold = magnitudes[sizes[l] - max_non_zero];
        int kept = 0;
        for (int j = 0; j < sizes[l]; ++j) {
          double& w = layer.weight[i * sizes[l] + j];
          if (std::abs(w) >= threshold && kept < max_non_zero) {
            ++kept;
          } else {
            w = 0.0;
          }
        }
      }
    }
    layer.activation = l + 2 < sizes.size() ? compiler::Activation::relu : compiler::Activation::identity;
    model.layers.push_back(std::move(layer));
  }
  return model;
}

// rows x cols features uniform in [low, high].
inline Matrix random_features(size_t rows, size_t cols, uint32_t seed, double low = -0.05, double high = 1.05) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(low, high);
  Matrix m(rows, cols);
  for (double& v : m.values) v = u(rng);
  return m;
}

}  // namespace fhenn::testing
