// Flatten, Reshape and Concat: values moved, not changed (no bootstrap unless Concat must requantize).
#include <optional>

#include "fhenn/common/error.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

// Parameters per channel of `from` (a bias, a quantizer) as parameters per channel of `to`, the same elements in
// order; nullopt when a channel of `to` would hold elements of two different parameters.
template <class T>
std::optional<std::vector<T>> regroup(const std::vector<T>& per_channel, const Shape& from, const Shape& to) {
  const size_t old_channel = channel_size(from), new_channel = channel_size(to);
  std::vector<T> out;
  for (size_t i = 0; i < ir::shape_elements(to); i += new_channel) {
    const T& first = per_channel[i / old_channel];
    for (size_t j = i; j < i + new_channel; ++j) {
      if (!(per_channel[j / old_channel] == first)) return std::nullopt;
    }
    out.push_back(first);
  }
  return out;
}

// A new shape for the same values: quantized tensors keep their quantizer; per-channel tensors and accumulators
// their parameters element by element, requantized first (one lookup) where a new channel would mix two.
EncodedTensor reshaped(const EncodedTensor& value, const Shape& to, LoweringContext& context, const std::string& name) {
  const Shape from = context.builder().shape_of(value.node);
  EncodedTensor in = value;
  if (in.is_per_channel()) {
    if (auto quantizers = regroup(in.channel_quantizers, from, to)) {
      in.channel_quantizers = std::move(*quantizers);
    } else {
      in = context.quantized(name + ".input", value, value.tensor);
    }
  }
  if (in.is_accumulator()) {
    auto bias = regroup(in.bias, from, to);
    auto scales = in.weight_scales.empty() ? std::optional<std::vector<double>>(std::vector<double>{})
                                           : regroup(in.weight_scales, from, to);
    if (bias && scales) {
      in.bias = std::move(*bias);
      in.weight_scales = std::move(*scales);
    } else {
      in = context.quantized(name + ".input", value, value.tensor);
    }
  }
  in.node = context.builder().add_reshape(name, in.node, to);
  return in;
}

// The same values under the shape infer_shape gives.
class Reshaping : public GraphOp {
 public:
  FloatTensor evaluate(const GraphNode&, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    return {shape, operands[0]->values};
  }
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                      LoweringContext& context) const override {
    return reshaped(operands[0], context.graph().shape(tensor), context, node.name);
  }
};

class Flatten final : public Reshaping {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    return {ir::shape_elements(operands[0])};
  }
};

// Reshape to the `shape` attribute (without the batch axis; one entry may be -1: what remains).
class Reshape final : public Reshaping {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    const auto target = node.ints_or("shape", {});
    FHENN_CHECK(target.size() == 1 || target.size() == 3, "Reshape '", node.name,
                "' needs a shape attribute of 1 or 3 dimensions (without the batch)");
    const size_t elements = ir::shape_elements(operands[0]);
    size_t known = 1;
    int unknown = -1;
    for (size_t a = 0; a < target.size(); ++a) {
      if (target[a] == -1 && unknown < 0) {
        unknown = static_cast<int>(a);
        continue;
      }
      FHENN_CHECK(target[a] >= 1 && target[a] <= (int64_t{1} << 24), "Reshape '", node.name, "': dimension ", target[a],
                  " must be 1..2^24 (or one -1)");
      known *= static_cast<size_t>(target[a]);
    }
    Shape shape;
    for (int64_t d : target) shape.push_back(d == -1 ? (known == 0 ? 0 : elements / known) : static_cast<size_t>(d));
    FHENN_CHECK(ir::shape_elements(shape) == elements, "Reshape '", node.name, "' gives ", elements,
                " elements the shape ", ir::shape_text(shape));
    return shape;
  }
};

// Concatenation along `axis` (0: channels, without the batch); every operand on the output's quantizer.
class Concat final : public GraphOp {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    FHENN_CHECK(operands.size() >= 1, "Concat '", node.name, "' reads no tensor");
    const int64_t axis = node.int_or("axis", 0);
    FHENN_CHECK(axis >= 0 && static_cast<size_t>(axis) < operands[0].size(), "Concat '", node.name, "': axis ", axis,
                " is outside its operands' rank ", operands[0].size(), " (axes count without the batch)");
    return ir::concat_output_shape({operands.begin(), operands.end()}, static_cast<size_t>(axis), node.name);
  }
  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    const auto axis = static_cast<size_t>(node.int_or("axis", 0));
    size_t inner = 1;
    for (size_t a = axis + 1; a < shape.size(); ++a) inner *= shape[a];
    size_t outer = 1;
    for (size_t a = 0; a < axis; ++a) outer *= shape[a];
    FloatTensor y{shape, {}};
    for (size_t o = 0; o < outer; ++o) {
      for (const FloatTensor* t : operands) {
        const size_t block = t->shape[axis] * inner;
        y.values.insert(y.values.end(), t->values.begin() + static_cast<std::ptrdiff_t>(o * block),
                        t->values.begin() + static_cast<std::ptrdiff_t>((o + 1) * block));
      }
    }
    return y;
  }
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                      LoweringContext& context) const override {
    const quant::UniformQuantizer common = context.activation_quantizer(tensor);
    std::vector<ir::NodeId> nodes;
    for (size_t k = 0; k < operands.size(); ++k) {
      nodes.push_back(context.requantized(node.name + ".operand" + std::to_string(k), operands[k], common).node);
    }
    EncodedTensor out;
    out.node = context.builder().add_concat(node.name, nodes, static_cast<size_t>(node.int_or("axis", 0)));
    out.quantizer = common;
    return out;
  }
};

}  // namespace

const GraphOp& flatten() {
  static const Flatten op;
  return op;
}

const GraphOp& reshape() {
  static const Reshape op;
  return op;
}

const GraphOp& concat() {
  static const Concat op;
  return op;
}

}  // namespace fhenn::compiler::ops
