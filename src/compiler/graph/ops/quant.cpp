// Quant (QONNX's fake quantization, Brevitas's QuantIdentity): y = dequantize(quantize(x)) with a given quantizer.
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

class Quant final : public GraphOp {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    FHENN_CHECK(node.quantizer.has_value(), "Quant '", node.name,
                "' has no quantizer: give its scale, zero point and bits");
    validate_quantizer(*node.quantizer, "Quant '" + node.name + "'");
    return operands[0];
  }

  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    FloatTensor y{shape, operands[0]->values};
    for (double& v : y.values) v = node.quantizer->dequantize(node.quantizer->quantize(v));
    return y;
  }

  // Free where it fixes what is already computed: the lookup before it (an activation whose only reader it is) and
  // a graph input (the client) take its quantizer (LoweringContext::activation_quantizer); otherwise one lookup,
  // after the rounding of an accumulator.
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t,
                      LoweringContext& context) const override {
    return context.requantized(node.name, operands[0], *node.quantizer);
  }
};

}  // namespace

const GraphOp& quant() {
  static const Quant op;
  return op;
}

}  // namespace fhenn::compiler::ops
