// Add and Sub of two tensors of one shape (residual connections), lowered to a weighted sum on one scale.
#include "fhenn/common/error.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

// Whether quantizer q represents every value calibration saw in statistics s.
bool covers(const quant::UniformQuantizer& q, const quant::TensorStatistics& s) {
  return q.dequantize(q.qmin()) <= s.rmin && s.rmax <= q.dequantize(q.qmax());
}

class Sum final : public GraphOp {
 public:
  explicit Sum(int64_t sign) : sign_(sign) {}

  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 2);
    FHENN_CHECK(operands[0] == operands[1], node.op, " '", node.name, "' combines tensors of shapes ",
                ir::shape_text(operands[0]), " and ", ir::shape_text(operands[1]),
                ": fhenn does not broadcast; give both operands one shape");
    return operands[0];
  }

  FloatTensor evaluate(const GraphNode&, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    FloatTensor y{shape, operands[0]->values};
    for (size_t i = 0; i < y.values.size(); ++i) y.values[i] += static_cast<double>(sign_) * operands[1]->values[i];
    return y;
  }

  // Both operands on one quantizer (z, s): x0 +- x1 = s * (q0 +- q1 - z (1 +- 1)), an accumulator of scale s. The
  // common quantizer is an operand's own when it covers the other's calibrated range (one requantizing lookup),
  // else one calibrated on both.
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t,
                      LoweringContext& context) const override {
    const auto& s0 = context.statistics(operands[0].tensor);
    const auto& s1 = context.statistics(operands[1].tensor);
    quant::UniformQuantizer common;
    if (operands[0].is_quantized() && covers(*operands[0].quantizer, s1)) {
      common = *operands[0].quantizer;
    } else if (operands[1].is_quantized() && covers(*operands[1].quantizer, s0)) {
      common = *operands[1].quantizer;
    } else {
      quant::TensorStatistics both = s0;
      both.observe(s1.rmin);
      both.observe(s1.rmax);
      common = quant::asymmetric_quantizer(both, context.options().n_bits.op_inputs);
    }
    const EncodedTensor a = context.requantized(node.name + ".lhs", operands[0], common);
    const EncodedTensor b = context.requantized(node.name + ".rhs", operands[1], common);
    const int64_t constant = -common.zero_point * (1 + sign_);
    const ir::NodeId sum = context.builder().add_weighted_sum(node.name, {a.node, b.node}, {1, sign_}, constant);
    const size_t channels = context.builder().shape_of(sum)[0];
    return accumulator(sum, a, 1.0, std::vector<double>(channels, 0.0));
  }

 private:
  int64_t sign_;
};

}  // namespace

const GraphOp& add() {
  static const Sum op(1);
  return op;
}

const GraphOp& subtract() {
  static const Sum op(-1);
  return op;
}

}  // namespace fhenn::compiler::ops
