// The registered ops of the model graph (registry.cpp lists them by name) and the helpers they share.
#pragma once

#include <cstdint>
#include <functional>
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
const GraphOp& quant();
// The univariate activations (activation.cpp), one per name: Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Silu,
// HardSwish, Softplus, Identity; nullptr for another name.
const GraphOp* activation(std::string_view name);
std::string activation_names();

// Weights quantized symmetrically with `bits` (formula (Q2)): with one quantizer, or one per output row (row_scales:
// each row's scale; quantizer: the bits).
struct QuantizedWeights {
  quant::UniformQuantizer quantizer;
  std::vector<int64_t> values;
  std::vector<double> row_scales;  // per output channel, when quantized per channel (else empty)
};
QuantizedWeights quantize_weights(const std::vector<double>& weights, int bits);

// The channel of its input that weight k of a linear op reads.
using WeightChannel = std::function<size_t(size_t)>;

// A linear op's weights over input `in`: quantize_weights, or, when `in` is per channel, each weight times the
// scale of the input channel it reads quantized symmetrically, which folds the input's scales into the weights
// (the accumulator then has input scale 1, see accumulator()). `rows` output rows of equal length; with
// WeightQuantization::per_channel each row gets its own quantizer.
QuantizedWeights quantize_linear_weights(const std::vector<double>& weights, const EncodedTensor& in,
                                         const WeightChannel& channel_of, int bits, size_t rows,
                                         WeightQuantization scales);

// (L1) with the input's zero points moved to constants: c[o] = -sum_j W[o][j] * z(k), k = o * row + j the index of
// the weight and z(k) the zero point of the input channel it reads (rows of equal length); overflow-checked;
// empty when every zero point is 0.
std::vector<int64_t> zero_point_constants(const std::vector<int64_t>& weights, size_t rows, const EncodedTensor& in,
                                          const WeightChannel& channel_of, const std::string& node);

// The accumulator a linear op over a quantized or per-channel (folded) input produces:
// x = v * input_scale * weight_scale + bias[c], input_scale the input's scale (1 when folded).
EncodedTensor accumulator(ir::NodeId node, const EncodedTensor& input, double weight_scale, std::vector<double> bias);

// The weights the float reference of linear op `node` uses: its weights, fake-quantized by its trained weight
// quantizer when it has one (what the quantization-aware network computes; a trained rounding shift acts on
// integers only and the float reference leaves it out).
std::vector<double> reference_weights(const GraphNode& node);

// The weights of linear op `node` (Gemm, Conv) over `in`: with its trained weight quantizer when it has one
// (node.quantizer: symmetric, over an input with one quantizer), else quantize_linear_weights with the weight bits.
QuantizedWeights linear_op_weights(const GraphNode& node, const EncodedTensor& in, const WeightChannel& channel_of,
                                   size_t rows, const LoweringContext& context);

// The accumulator node `id` of linear op `node` (Gemm, Conv) with weights `w` over `in`, `channels` output channels:
// accumulator() with the node's bias (zeros when it has none) and its trained rounding shift, if any; the op's
// facts are recorded for the precision check (LoweringContext::record_linear_op).
EncodedTensor linear_op_accumulator(const GraphNode& node, ir::NodeId id, const EncodedTensor& in,
                                    const QuantizedWeights& w, size_t channels, LoweringContext& context);

// Throws fhenn::Error naming the node unless it has `count` operands.
void expect_operands(const GraphNode& node, size_t given, size_t count);

}  // namespace fhenn::compiler::ops
