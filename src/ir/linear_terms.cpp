// Decoding linear ops for their terms, and evaluating them (see linear_terms.hpp).
#include "fhenn/ir/linear_terms.hpp"

#include "fhenn/common/assert.hpp"
#include "fhenn/ir/evaluate.hpp"

namespace fhenn::ir {
namespace {

// Operand pointers of a linear node held on the stack up to this many operands.
constexpr size_t kMaxLinearOperandsOnStack = 8;

}  // namespace

LinearTerms::LinearTerms(const Node& node, std::span<const Node> nodes) : node_(&node), nodes_(nodes) {
  FHENN_CHECK(traits(node.kind()).is_linear, "node '", node.name, "' is not a linear op");
  const Node& operand = nodes[node.operands.at(0)];
  operand_width_ = operand.width;
  if (node.kind() == OpKind::conv2d) {
    channels_ = operand.shape.at(0);
    height_ = operand.shape.at(1);
    width_ = operand.shape.at(2);
    out_height_ = node.shape.at(1);
    out_width_ = node.shape.at(2);
  }
  if (node.kind() == OpKind::concat) {
    const size_t axis = std::get<ConcatOp>(node.op).axis;
    for (size_t a = axis + 1; a < node.shape.size(); ++a) inner_ *= node.shape[a];
  }
}

int64_t LinearTerms::add_constant(int64_t total, int64_t weight, int64_t value) const {
  int64_t product = 0;
  FHENN_CHECK(!__builtin_mul_overflow(weight, value, &product) && !__builtin_add_overflow(total, product, &total),
              "node '", node_->name, "': its padding constant overflows 64 bits");
  return total;
}

size_t LinearTerms::max_terms() const {
  switch (node_->kind()) {
    case OpKind::dot_product:
      return operand_width_;
    case OpKind::conv2d: {
      const auto& op = std::get<Conv2dOp>(node_->op);
      return channels_ / op.groups * op.kernel_h * op.kernel_w;
    }
    case OpKind::weighted_sum:
      return node_->operands.size();
    default:
      return 1;
  }
}

void evaluate_linear(const Circuit& circuit, NodeId id, std::span<const int64_t> node_values, std::span<int64_t> out) {
  const Node& node = circuit.node(id);
  FHENN_ASSERT_EQ(out.size(), node.width);
  if (const auto* dot = std::get_if<DotProductOp>(&node.op)) {  // the common case, without the visitor
    evaluate_dot_product(*dot, node_slice(circuit, node.operands[0], node_values), out);
    return;
  }
  const LinearTerms terms(node, circuit.nodes());
  const int64_t* operands[kMaxLinearOperandsOnStack] = {};
  std::vector<const int64_t*> many;
  const int64_t** base = operands;
  if (node.operands.size() > kMaxLinearOperandsOnStack) {
    many.resize(node.operands.size());
    base = many.data();
  }
  for (size_t k = 0; k < node.operands.size(); ++k) base[k] = node_slice(circuit, node.operands[k], node_values).data();
  for (size_t i = 0; i < node.width; ++i) {
    int64_t sum = 0;
    const int64_t constant = terms.visit(i, [&](size_t slot, size_t j, int64_t w) { sum += w * base[slot][j]; });
    out[i] = sum + constant;
  }
}

}  // namespace fhenn::ir
