// Torch-free description of a trained fully connected network: what `nn` exports and the compiler reads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

enum class Activation { identity, relu };

// y = activation(W x + b), W of shape out_features x in_features (row-major), b of out_features (or empty).
struct DenseLayer {
  std::string name;  // as the user's model names it, e.g. "fc1"; used in every message about the layer
  int in_features = 0;
  int out_features = 0;
  std::vector<double> weight;
  std::vector<double> bias;
  Activation activation = Activation::identity;
};

// A float network (post-training quantization input): layers in order, the last one's outputs are the scores.
struct FloatMlp {
  int input_size = 0;
  std::vector<DenseLayer> layers;
};

// One quantization-aware layer: its float weights with the trained weight quantizer, and the quantizer that
// follows its activation (QuantReLU / QuantIdentity), absent on the last layer whose raw accumulator is
// the circuit's output.
struct QatLayer {
  DenseLayer layer;
  std::optional<quant::UniformQuantizer> weight_quantizer;  // missing: an error naming "<name>.weight"
  std::optional<quant::UniformQuantizer> output_quantizer;  // missing on a hidden layer: an error naming it
  // Rounding-aware training: the accumulator sum_i w_q[i] * x_q[i] (integers, bias excluded) is replaced by
  // quant::round_msbs(acc, rounding_shift) * 2^rounding_shift before bias, activation and output quantizer.
  // nn computes the shift as quant::rounding_shift(worst-case accumulator bits of the layer, r) from the
  // quantized weights and the input quantizer's range, and exports it; the compiler uses it as it is.
  int rounding_shift = 0;
};

// A network trained with quantizers in the loop (QATPrunedSimpleNet and its generalisations).
// Rounding-aware training: rounding_threshold_bits = r keeps the r most significant bits of each
// accumulator before its table lookup (Concrete ML documentation); the circuit must do the same.
struct QatMlp {
  int input_size = 0;
  std::optional<quant::UniformQuantizer> input_quantizer;  // the client's quantizer; missing: an error
  std::vector<QatLayer> layers;
  std::optional<int> rounding_threshold_bits;
};

}  // namespace fhenn::compiler
