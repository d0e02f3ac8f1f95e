// Helpers the graph ops share: weight quantization, zero-point constants, accumulators (see ops.hpp).
#include <cmath>

#include "fhenn/common/assert.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {

QuantizedWeights quantize_weights(const std::vector<double>& weights, int bits) {
  QuantizedWeights q{quant::symmetric_quantizer(quant::TensorStatistics::of(weights), bits), {}, {}};
  q.values.reserve(weights.size());
  for (double w : weights) q.values.push_back(q.quantizer.quantize(w));
  return q;
}

QuantizedWeights quantize_linear_weights(const std::vector<double>& weights, const EncodedTensor& in,
                                         const WeightChannel& channel_of, int bits, size_t rows,
                                         WeightQuantization scales) {
  std::vector<double> folded = weights;
  if (in.is_per_channel()) {
    for (size_t k = 0; k < weights.size(); ++k) folded[k] = weights[k] * in.channel_quantizer(channel_of(k)).scale;
  }
  if (scales == WeightQuantization::per_tensor) return quantize_weights(folded, bits);
  FHENN_ASSERT(rows > 0 && folded.size() % rows == 0);
  const size_t row_length = folded.size() / rows;
  QuantizedWeights q{quant::symmetric_quantizer(quant::TensorStatistics::of(folded), bits), {}, {}};
  q.values.reserve(folded.size());
  for (size_t o = 0; o < rows; ++o) {
    const std::vector<double> row(folded.begin() + static_cast<std::ptrdiff_t>(o * row_length),
                                  folded.begin() + static_cast<std::ptrdiff_t>((o + 1) * row_length));
    const QuantizedWeights row_weights = quantize_weights(row, bits);
    q.values.insert(q.values.end(), row_weights.values.begin(), row_weights.values.end());
    q.row_scales.push_back(row_weights.quantizer.scale);
  }
  return q;
}

std::vector<int64_t> zero_point_constants(const std::vector<int64_t>& weights, size_t rows, const EncodedTensor& in,
                                          const WeightChannel& channel_of, const std::string& node) {
  const size_t row_length = weights.size() / rows;
  std::vector<int64_t> constants(rows, 0);
  bool any = false;
  for (size_t o = 0; o < rows; ++o) {
    int64_t sum = 0;
    for (size_t j = 0; j < row_length; ++j) {
      const size_t k = o * row_length + j;
      int64_t term = 0;
      FHENN_CHECK(!__builtin_mul_overflow(weights[k], -in.channel_quantizer(channel_of(k)).zero_point, &term) &&
                      !__builtin_add_overflow(sum, term, &sum),
                  "node '", node, "': its zero-point constant overflows 64 bits");
    }
    constants[o] = sum;
    any = any || sum != 0;
  }
  if (!any) return {};
  return constants;
}

EncodedTensor accumulator(ir::NodeId node, const EncodedTensor& input, double weight_scale, std::vector<double> bias) {
  EncodedTensor out;
  out.node = node;
  out.input_scale = input.is_quantized() ? input.quantizer->scale : 1.0;
  out.weight_scale = weight_scale;
  out.bias = std::move(bias);
  return out;
}

namespace {

// The trained per-channel weight scales of linear op `node` (tensor "weight_scales": one per output row, each
// finite and > 0, else fhenn::Error), or nullptr when its quantizer's one scale serves every row.
const std::vector<double>* trained_row_scales(const GraphNode& node) {
  const auto found = node.tensors.find("weight_scales");
  if (found == node.tensors.end()) return nullptr;
  const std::vector<double>& scales = found->second;
  FHENN_CHECK(!scales.empty() && node.weight.size() % scales.size() == 0, node.name, ".weight_scales has ",
              scales.size(), " scales for ", node.weight.size(), " weights: give one per output channel");
  for (double v : scales) {
    FHENN_CHECK(std::isfinite(v) && v > 0.0, node.name, ".weight_scales holds ", v,
                ": every scale must be finite and > 0");
  }
  return &scales;
}

// Calls f(k, q) for every weight k of linear op `node` with a trained quantizer, q the quantizer of its row.
template <class F>
void for_each_trained_weight(const GraphNode& node, F&& f) {
  const std::vector<double>* scales = trained_row_scales(node);
  const size_t rows = scales ? scales->size() : 1;
  const size_t row_length = node.weight.size() / rows;
  quant::UniformQuantizer q = *node.quantizer;
  for (size_t row = 0; row < rows; ++row) {
    if (scales) q.scale = (*scales)[row];
    for (size_t k = row * row_length; k < (row + 1) * row_length; ++k) f(k, q);
  }
}

}  // namespace

std::vector<double> reference_weights(const GraphNode& node) {
  if (!node.quantizer) return node.weight;
  std::vector<double> weights(node.weight.size());
  for_each_trained_weight(
      node, [&](size_t k, const quant::UniformQuantizer& q) { weights[k] = q.dequantize(q.quantize(node.weight[k])); });
  return weights;
}

QuantizedWeights linear_op_weights(const GraphNode& node, const EncodedTensor& in, const WeightChannel& channel_of,
                                   size_t rows, const LoweringContext& context) {
  if (!node.quantizer) {
    return quantize_linear_weights(node.weight, in, channel_of, context.options().n_bits.op_weights, rows,
                                   context.options().weight_quantization);
  }
  const quant::UniformQuantizer& q = *node.quantizer;
  validate_quantizer(q, node.name + ".weight");
  FHENN_CHECK(q.zero_point == 0, node.name, ".weight: the weight quantizer has zero point ", q.zero_point,
              "; weights must be quantized symmetrically (zero point 0)");
  FHENN_ASSERT(!in.is_per_channel());  // per-channel inputs are only given to ops that fold their scales
  QuantizedWeights w{q, std::vector<int64_t>(node.weight.size()), {}};
  if (const std::vector<double>* scales = trained_row_scales(node)) {
    FHENN_CHECK(scales->size() == rows, node.name, ".weight_scales has ", scales->size(), " scales; the op has ", rows,
                " output channels: give one per channel");
    w.row_scales = *scales;
  }
  for_each_trained_weight(
      node, [&](size_t k, const quant::UniformQuantizer& row) { w.values[k] = row.quantize(node.weight[k]); });
  return w;
}

EncodedTensor linear_op_accumulator(const GraphNode& node, ir::NodeId id, const EncodedTensor& in,
                                    const QuantizedWeights& w, size_t channels, LoweringContext& context) {
  EncodedTensor acc =
      accumulator(id, in, w.quantizer.scale, node.bias.empty() ? std::vector<double>(channels, 0.0) : node.bias);
  acc.weight_scales = w.row_scales;
  if (node.ints.count("rounding_shift")) {
    const int64_t shift = node.int_or("rounding_shift", 0);
    FHENN_CHECK(shift >= 0 && shift <= 40, "node '", node.name, "' (", node.op, "): rounding_shift is ", shift,
                "; it must be 0..40");
    acc.rounding_shift = static_cast<int>(shift);
  }
  context.record_linear_op(id, in, w.quantizer.bits);
  return acc;
}

void expect_operands(const GraphNode& node, size_t given, size_t count) {
  FHENN_CHECK(given == count, "node '", node.name, "' (", node.op, ") reads ", given, " tensors; it takes ", count);
}

}  // namespace fhenn::compiler::ops
