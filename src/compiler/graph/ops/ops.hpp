// The registered ops of the model graph (registry.cpp lists them by name) and the helpers they share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fhenn/compiler/graph_ops.hpp"

namespace fhenn::compiler::ops {

const GraphOp& gemm();
const GraphOp& conv();
const GraphOp& add();
const GraphOp& subtract();
const GraphOp& average_pool();
const GraphOp& global_average_pool();
const GraphOp& max_pool();
const GraphOp& flatten();
const GraphOp& reshape();
const GraphOp& concat();
// The univariate activations (activation.cpp), one per name: Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Silu,
// HardSwish, Softplus, Identity; nullptr for another name.
const GraphOp* activation(std::string_view name);
std::string activation_names();

// Weights quantized symmetrically with `bits` (formula (Q2)).
struct QuantizedWeights {
  quant::UniformQuantizer quantizer;
  std::vector<int64_t> values;
};
QuantizedWeights quantize_weights(const std::vector<double>& weights, int bits);

// (L1) with the input's zero point z moved to constants: c[o] = -z * sum of row o of `weights` (rows of equal
// length), overflow-checked; empty when z = 0.
std::vector<int64_t> zero_point_constants(const std::vector<int64_t>& weights, size_t rows, int64_t zero_point,
                                          const std::string& node);

// The accumulator a linear op over a quantized input produces: x = v * input_scale * weight_scale + bias[c].
EncodedTensor accumulator(ir::NodeId node, const EncodedTensor& input, double weight_scale, std::vector<double> bias);

// Throws fhenn::Error naming the node unless it has `count` operands.
void expect_operands(const GraphNode& node, size_t given, size_t count);

}  // namespace fhenn::compiler::ops
