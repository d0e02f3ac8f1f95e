// Helpers the graph ops share: weight quantization, zero-point constants, accumulators (see ops.hpp).
#include "fhenn/common/error.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {

QuantizedWeights quantize_weights(const std::vector<double>& weights, int bits) {
  QuantizedWeights q{quant::symmetric_quantizer(quant::TensorStatistics::of(weights), bits), {}};
  q.values.reserve(weights.size());
  for (double w : weights) q.values.push_back(q.quantizer.quantize(w));
  return q;
}

std::vector<int64_t> zero_point_constants(const std::vector<int64_t>& weights, size_t rows, int64_t zero_point,
                                          const std::string& node) {
  if (zero_point == 0) return {};
  const size_t row_length = weights.size() / rows;
  std::vector<int64_t> constants(rows, 0);
  for (size_t o = 0; o < rows; ++o) {
    int64_t sum = 0;
    for (size_t j = 0; j < row_length; ++j) {
      FHENN_CHECK(!__builtin_add_overflow(sum, weights[o * row_length + j], &sum), "node '", node,
                  "': its weights' sum overflows 64 bits");
    }
    FHENN_CHECK(!__builtin_mul_overflow(-zero_point, sum, &constants[o]), "node '", node,
                "': its zero-point constant overflows 64 bits");
  }
  return constants;
}

EncodedTensor accumulator(ir::NodeId node, const EncodedTensor& input, double weight_scale, std::vector<double> bias) {
  EncodedTensor out;
  out.node = node;
  out.input_scale = input.quantizer->scale;
  out.weight_scale = weight_scale;
  out.bias = std::move(bias);
  return out;
}

void expect_operands(const GraphNode& node, size_t given, size_t count) {
  FHENN_CHECK(given == count, "node '", node.name, "' (", node.op, ") reads ", given, " tensors; it takes ", count);
}

}  // namespace fhenn::compiler::ops
