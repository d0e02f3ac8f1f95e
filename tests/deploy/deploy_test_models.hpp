// Small compiled models and inputs shared by the deployment tests.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/compile.hpp"

namespace fhenn::deploy {

// A 2 -> hidden... -> 2 float network with seeded random weights, and its calibration set.
struct TinyModel {
  compiler::FloatMlp model;
  Matrix calibration;
};

inline TinyModel tiny_float_mlp(uint32_t seed, std::vector<int> hidden = {3}) {
  std::mt19937 gen(seed);  // test data only
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  TinyModel tiny{{}, Matrix(64, 2)};
  compiler::FloatMlp& model = tiny.model;
  model.input_size = 2;
  std::vector<int> sizes{2};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(2);
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    compiler::DenseLayer layer;
    layer.name = "fc" + std::to_string(l + 1);
    layer.in_features = sizes[l];
    layer.out_features = sizes[l + 1];
    for (int i = 0; i < sizes[l] * sizes[l + 1]; ++i) layer.weight.push_back(u(gen));
    for (int i = 0; i < sizes[l + 1]; ++i) layer.bias.push_back(u(gen) * 0.1);
    layer.activation = l + 2 < sizes.size() ? compiler::Activation::relu : compiler::Activation::identity;
    model.layers.push_back(layer);
  }
  for (double& v : tiny.calibration.values) v = (u(gen) + 1.0) / 2.0;
  return tiny;
}

// tiny_float_mlp compiled at 2 bits everywhere (small lookups).
inline compiler::CompiledModel tiny_compiled_model(uint32_t seed, std::vector<int> hidden = {3}) {
  const TinyModel tiny = tiny_float_mlp(seed, std::move(hidden));
  compiler::PtqOptions options;
  options.n_bits = {.model_inputs = 2, .op_inputs = 2, .op_weights = 2, .model_outputs = 2};
  return compiler::compile_ptq(tiny.model, tiny.calibration, options);
}

inline Matrix sample_features(size_t rows) {
  Matrix m(rows, 2);
  for (size_t i = 0; i < rows; ++i) {
    m.at(i, 0) = static_cast<double>(i % 5) / 4.0;
    m.at(i, 1) = static_cast<double>(i % 3) / 2.0;
  }
  return m;
}

}  // namespace fhenn::deploy
