// Gemm (a fully connected layer): y = W x + b on a flat input, lowered to a dot product.
#include "fhenn/common/error.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

class Gemm final : public GraphOp {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    FHENN_CHECK(operands[0].size() == 1, "Gemm '", node.name, "' reads a tensor of shape ", ir::shape_text(operands[0]),
                ": flatten it first (Flatten)");
    const size_t in = operands[0][0];
    FHENN_CHECK(!node.weight.empty() && node.weight.size() % in == 0, "Gemm '", node.name, "' has ", node.weight.size(),
                " weights for ", in, " inputs: give out x ", in, " weights");
    const size_t out = node.weight.size() / in;
    FHENN_CHECK(node.bias.empty() || node.bias.size() == out, "Gemm '", node.name, "' has ", node.bias.size(),
                " biases for ", out, " outputs");
    return {out};
  }

  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    const auto& x = operands[0]->values;
    const std::vector<double> weight = reference_weights(node);
    FloatTensor y{shape, std::vector<double>(shape[0])};
    for (size_t o = 0; o < shape[0]; ++o) {
      double sum = node.bias.empty() ? 0.0 : node.bias[o];
      for (size_t j = 0; j < x.size(); ++j) sum += weight[o * x.size() + j] * x[j];
      y.values[o] = sum;
    }
    return y;
  }

  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                      LoweringContext& context) const override {
    const EncodedTensor in = context.linear_input(node.name + ".input", operands[0], operands[0].tensor);
    const size_t out = context.graph().shape(tensor)[0];
    const size_t features = context.builder().shape_of(in.node)[0];
    const WeightChannel feature = [features](size_t k) { return k % features; };
    const QuantizedWeights w = linear_op_weights(node, in, feature, out, context);
    context.budget().charge(w.values.size());
    const ir::NodeId acc =
        context.builder().add_dot_product(node.name + ".accumulator", in.node, out, w.values,
                                          zero_point_constants(w.values, out, in, feature, node.name));
    return linear_op_accumulator(node, acc, in, w, out, context);
  }
};

}  // namespace

const GraphOp& gemm() {
  static const Gemm op;
  return op;
}

}  // namespace fhenn::compiler::ops
