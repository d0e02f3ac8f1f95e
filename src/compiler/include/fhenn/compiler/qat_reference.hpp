// The integers a QAT network computes, layer by layer, exactly as its compiled circuit does: for `nn` to check
// its trained forward pass against the circuit, and for tests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fhenn/compiler/model.hpp"
#include "fhenn/compiler/quantized_model.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

// The integer model of a QAT network (what compile_qat lowers): weights become weight_quantizer.quantize(w)
// (round half to even of w / scale, clamped: Brevitas's integers), each layer's input quantizer is the
// previous quantizer. Throws fhenn::Error naming a tensor without its quantizer, e.g.
// "fc2.weight has no weight quantizer: use QuantLinear".
QuantizedMlp quantize_qat_model(const QatMlp& model);

// The weight integers of one layer (out x in, row-major).
std::vector<int64_t> qat_weight_integers(const QatLayer& layer);

// One layer on integers, (L1)-(L5) of docs/circuit.md: for a hidden layer the output quantizer's integers
//   f(acc) = output_quantizer.quantize(act(double(round_msbs(acc, s) * 2^s) * s_in * s_w + bias)),
// for the last layer (no output quantizer) the rounded accumulators. `input_quantizer` quantized the inputs.
std::vector<int64_t> qat_reference_layer(const QatLayer& layer, const quant::UniformQuantizer& input_quantizer,
                                         std::span<const int64_t> input_integers);

// The whole network: the input quantizer's integers of `features`, then every layer; the circuit's outputs.
std::vector<int64_t> qat_reference_forward(const QatMlp& model, std::span<const double> features);

}  // namespace fhenn::compiler
