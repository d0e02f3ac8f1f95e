// The terms of the linear ops: each element as a sum of clear integer multiples of operand elements plus a constant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fhenn/common/error.hpp"
#include "fhenn/ir/circuit.hpp"

namespace fhenn::ir {

// A linear node (OpTraits::is_linear) decoded once, for visiting its elements' terms. Holds pointers into the
// nodes: build one where it is used, never store it beside a copy of the circuit.
class LinearTerms {
 public:
  // `nodes`: the circuit's nodes, shapes filled in, the node's operands among them.
  LinearTerms(const Node& node, std::span<const Node> nodes);

  // Calls term(slot, j, w) for every term w * operand_slot[j] of element i with w != 0, and returns the element's
  // constant. The constant is computed with overflow checks (a conv2d adds w * pad value for every position
  // outside its operand): fhenn::Error naming the node when it leaves 64 bits, which the verifier's range
  // analysis reports first for every circuit it accepts.
  template <class Term>
  int64_t visit(size_t i, Term&& term) const;

  // The terms one element has at most (the work of evaluating an element).
  size_t max_terms() const;

 private:
  int64_t add_constant(int64_t total, int64_t weight, int64_t value) const;
  template <class Term>
  int64_t visit_conv2d(size_t i, Term& term) const;
  template <class Term>
  void visit_concat(size_t i, Term& term) const;
  template <class Term>
  void visit_slice(size_t i, Term& term) const;

  const Node* node_;
  std::span<const Node> nodes_;
  size_t operand_width_ = 0;
  // conv2d: the operand's (C, H, W) and the output's (H_out, W_out); concat: sizes around the axis.
  size_t channels_ = 0, height_ = 0, width_ = 0, out_height_ = 0, out_width_ = 0;
  size_t inner_ = 1;
};

// (C2), (C6)-(C10) for one node: out[i] = sum of its terms + constant, reading `node_values` (a sample's values of
// every node, laid out by Circuit::value_offset).
void evaluate_linear(const Circuit& circuit, NodeId id, std::span<const int64_t> node_values, std::span<int64_t> out);

template <class Term>
int64_t LinearTerms::visit(size_t i, Term&& term) const {
  const Node& node = *node_;
  switch (node.kind()) {
    case OpKind::dot_product: {
      const auto& op = std::get<DotProductOp>(node.op);
      const int64_t* row = op.weights.data() + i * operand_width_;
      for (size_t j = 0; j < operand_width_; ++j) {
        if (row[j] != 0) term(size_t{0}, j, row[j]);
      }
      return op.constants.empty() ? 0 : op.constants[i];
    }
    case OpKind::conv2d:
      return visit_conv2d(i, term);
    case OpKind::weighted_sum: {
      const auto& op = std::get<WeightedSumOp>(node.op);
      for (size_t k = 0; k < op.multipliers.size(); ++k) {
        if (op.multipliers[k] != 0) term(k, i, op.multipliers[k]);
      }
      return op.constant;
    }
    case OpKind::reshape:
      term(size_t{0}, i, int64_t{1});
      return 0;
    case OpKind::concat:
      visit_concat(i, term);
      return 0;
    case OpKind::slice:
      visit_slice(i, term);
      return 0;
    case OpKind::input:
    case OpKind::round:
    case OpKind::table_lookup:
    case OpKind::output:
      break;
  }
  fail("node '", node.name, "' is not a linear op");
}

template <class Term>
int64_t LinearTerms::visit_conv2d(size_t i, Term& term) const {
  const auto& op = std::get<Conv2dOp>(node_->op);
  const size_t out_plane = out_height_ * out_width_;
  const size_t co = i / out_plane;
  const size_t oy = (i % out_plane) / out_width_;
  const size_t ox = i % out_width_;
  const size_t in_per_group = channels_ / op.groups;
  const size_t first_channel = co / (op.out_channels / op.groups) * in_per_group;
  int64_t constant = op.constants.empty() ? 0 : op.constants[co];
  const int64_t* weight = op.kernel.data() + co * in_per_group * op.kernel_h * op.kernel_w;
  for (size_t ci = 0; ci < in_per_group; ++ci) {
    for (size_t ky = 0; ky < op.kernel_h; ++ky) {
      // Signed arithmetic: positions above or left of the operand are negative.
      const auto iy = static_cast<long>(oy * op.stride_h + ky * op.dilation_h) - static_cast<long>(op.pad_top);
      for (size_t kx = 0; kx < op.kernel_w; ++kx, ++weight) {
        if (*weight == 0) continue;
        const auto ix = static_cast<long>(ox * op.stride_w + kx * op.dilation_w) - static_cast<long>(op.pad_left);
        if (iy < 0 || ix < 0 || iy >= static_cast<long>(height_) || ix >= static_cast<long>(width_)) {
          constant = add_constant(constant, *weight, op.pad_value(first_channel + ci));
          continue;
        }
        term(size_t{0}, ((first_channel + ci) * height_ + static_cast<size_t>(iy)) * width_ + static_cast<size_t>(ix),
             *weight);
      }
    }
  }
  return constant;
}

template <class Term>
void LinearTerms::visit_concat(size_t i, Term& term) const {
  const size_t axis = std::get<ConcatOp>(node_->op).axis;
  const size_t total = node_->shape[axis];
  const size_t outer = i / (total * inner_);
  size_t along = (i / inner_) % total;
  const size_t inside = i % inner_;
  for (size_t k = 0; k < node_->operands.size(); ++k) {
    const size_t extent = nodes_[node_->operands[k]].shape[axis];
    if (along < extent) {
      term(k, (outer * extent + along) * inner_ + inside, int64_t{1});
      return;
    }
    along -= extent;
  }
}

template <class Term>
void LinearTerms::visit_slice(size_t i, Term& term) const {
  const auto& op = std::get<SliceOp>(node_->op);
  const Shape& in = nodes_[node_->operands[0]].shape;
  size_t j = 0;
  size_t stride = 1;
  size_t rest = i;
  for (size_t a = in.size(); a-- > 0;) {  // the last axis varies fastest
    const size_t index = rest % node_->shape[a];
    rest /= node_->shape[a];
    j += (op.starts[a] + op.steps[a] * index) * stride;
    stride *= in[a];
  }
  term(size_t{0}, j, int64_t{1});
}

}  // namespace fhenn::ir
