// The integers a QAT network computes, layer by layer, written out directly: the reference twin of its compiled
// circuit (compile_qat, through the model graph), for tests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fhenn/compiler/dequantization.hpp"
#include "fhenn/compiler/model.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

// The weight integers of one layer (out x in, row-major): weight_quantizer.quantize(w), round half to even of
// w / scale, clamped (Brevitas's integers). Throws fhenn::Error naming "<layer>.weight" without its quantizer.
std::vector<int64_t> qat_weight_integers(const QatLayer& layer);

// One layer on integers, (L1)-(L5) of docs/circuit.md: for a hidden layer the output quantizer's integers
//   f(acc) = output_quantizer.quantize(act(double(round_msbs(acc, s) * 2^s) * s_in * s_w + bias)),
// for the last layer (no output quantizer) the rounded accumulators. `input_quantizer` quantized the inputs.
std::vector<int64_t> qat_reference_layer(const QatLayer& layer, const quant::UniformQuantizer& input_quantizer,
                                         std::span<const int64_t> input_integers);

// The whole network: the input quantizer's integers of `features`, then every layer; the circuit's outputs.
std::vector<int64_t> qat_reference_forward(const QatMlp& model, std::span<const double> features);

}  // namespace fhenn::compiler
