// A QAT network shape for parameterised exactness tests, and the options that build it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "fhenn/nn/qat_network.hpp"

namespace fhenn::nn::testing {

struct QatTestShape {
  std::vector<int> hidden;
  int bits;
  std::optional<int> rounding;
  InputRange input_range;
  ActivationMode activation;
};

inline QatNetOptions qat_options(const QatTestShape& shape, int input_size, int num_classes, uint64_t seed) {
  QatNetOptions options;
  options.input_size = input_size;
  options.num_classes = num_classes;
  options.hidden_sizes = shape.hidden;
  options.bits = shape.bits;
  options.rounding_threshold_bits = shape.rounding;
  options.input_range = shape.input_range;
  options.activation = shape.activation;
  options.seed = seed;
  return options;
}

}  // namespace fhenn::nn::testing
