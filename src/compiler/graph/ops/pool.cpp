// Pooling: AveragePool and GlobalAveragePool (a depthwise sum, the division in the next lookup) and MaxPool
// (comparisons by lookup: max(a, b) = a + relu(b - a)).
#include <algorithm>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/tabulate.hpp"
#include "fhenn/ir/ranges.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

struct Window {
  size_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
};

Window window_of(const GraphNode& node, const Shape& in, bool global) {
  FHENN_CHECK(in.size() == 3, node.op, " '", node.name, "' reads a tensor of shape ", ir::shape_text(in),
              ": pooling takes (channels, height, width)");
  if (global) return {in[1], in[2], 1, 1};
  const auto kernel = node.ints_or("kernel_shape", {});
  const auto strides = node.ints_or("strides", {1, 1});
  FHENN_CHECK(kernel.size() == 2 && strides.size() == 2, node.op, " '", node.name,
              "' needs kernel_shape and strides of two integers each");
  for (int64_t v : {kernel[0], kernel[1], strides[0], strides[1]}) {
    FHENN_CHECK(v >= 1 && v <= (int64_t{1} << 16), node.op, " '", node.name, "': kernel and strides must be 1..65536");
  }
  for (int64_t pad : node.ints_or("pads", {0, 0, 0, 0})) {
    FHENN_CHECK(pad == 0, node.op, " '", node.name, "' is padded; fhenn pools without padding: pad the input with a ",
                "convolution or crop it instead");
  }
  FHENN_CHECK(node.ints_or("dilations", {1, 1}) == std::vector<int64_t>({1, 1}), node.op, " '", node.name,
              "' is dilated; fhenn pools without dilation");
  const Window w{static_cast<size_t>(kernel[0]), static_cast<size_t>(kernel[1]), static_cast<size_t>(strides[0]),
                 static_cast<size_t>(strides[1])};
  FHENN_CHECK(w.kernel_h <= in[1] && w.kernel_w <= in[2], node.op, " '", node.name, "': its ", w.kernel_h, "x",
              w.kernel_w, " window is larger than its ", in[1], "x", in[2], " input");
  return w;
}

Shape pooled_shape(const Window& w, const Shape& in) {
  return {in[0], (in[1] - w.kernel_h) / w.stride_h + 1, (in[2] - w.kernel_w) / w.stride_w + 1};
}

// Calls f(window values) for every output position of channel-major (C, H, W) `in`.
template <class F>
FloatTensor pool(const FloatTensor& in, const Window& w, const Shape& shape, F&& f) {
  FloatTensor y{shape, {}};
  std::vector<double> values;
  for (size_t c = 0; c < shape[0]; ++c) {
    for (size_t oy = 0; oy < shape[1]; ++oy) {
      for (size_t ox = 0; ox < shape[2]; ++ox) {
        values.clear();
        for (size_t ky = 0; ky < w.kernel_h; ++ky) {
          for (size_t kx = 0; kx < w.kernel_w; ++kx) {
            values.push_back(in.values[(c * in.shape[1] + oy * w.stride_h + ky) * in.shape[2] + ox * w.stride_w + kx]);
          }
        }
        y.values.push_back(f(values));
      }
    }
  }
  return y;
}

class AveragePool final : public GraphOp {
 public:
  explicit AveragePool(bool global) : global_(global) {}

  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    return pooled_shape(window_of(node, operands[0], global_), operands[0]);
  }

  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    return pool(*operands[0], window_of(node, operands[0]->shape, global_), shape, [](const std::vector<double>& v) {
      double sum = 0.0;
      for (double x : v) sum += x;
      return sum / static_cast<double>(v.size());
    });
  }

  // A depthwise convolution with a kernel of ones: v = sum (q - z), x = v * s * (1 / window).
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t,
                      LoweringContext& context) const override {
    const EncodedTensor in = context.quantized(node.name + ".input", operands[0], operands[0].tensor);
    const Shape shape = context.builder().shape_of(in.node);
    const Window w = window_of(node, shape, global_);
    ir::Conv2dOp op;
    op.out_channels = op.groups = shape[0];
    op.kernel_h = w.kernel_h;
    op.kernel_w = w.kernel_w;
    op.stride_h = w.stride_h;
    op.stride_w = w.stride_w;
    op.kernel.assign(shape[0] * w.kernel_h * w.kernel_w, 1);
    context.budget().charge(op.kernel.size());
    op.constants = zero_point_constants(
        op.kernel, shape[0], in, [](size_t) { return size_t{0}; }, node.name);
    const ir::NodeId sum = context.builder().add_conv2d(node.name + ".sum", in.node, std::move(op));
    return accumulator(sum, in, 1.0 / static_cast<double>(w.kernel_h * w.kernel_w), std::vector<double>(shape[0], 0.0));
  }

 private:
  bool global_;
};

class MaxPool final : public GraphOp {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    return pooled_shape(window_of(node, operands[0], false), operands[0]);
  }

  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    return pool(*operands[0], window_of(node, operands[0]->shape, false), shape,
                [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
  }

  // The maximum of integers q (the dequantization is increasing): one strided slice per window position, then
  // m = m + relu(w - m) for each, a lookup per comparison (exact: no rounding, no requantization).
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                      LoweringContext& context) const override {
    const EncodedTensor in = context.quantized(node.name + ".input", operands[0], operands[0].tensor);
    ir::CircuitBuilder& b = context.builder();
    const Shape shape = b.shape_of(in.node);
    const Window w = window_of(node, shape, false);
    const Shape out = context.graph().shape(tensor);
    ir::NodeId maximum = 0;
    for (size_t ky = 0; ky < w.kernel_h; ++ky) {
      for (size_t kx = 0; kx < w.kernel_w; ++kx) {
        const std::string at = node.name + ".window" + std::to_string(ky) + "_" + std::to_string(kx);
        const ir::NodeId window = b.add_slice(at, in.node, ir::SliceOp{{0, ky, kx}, {1, w.stride_h, w.stride_w}}, out);
        if (ky == 0 && kx == 0) {
          maximum = window;
          continue;
        }
        const ir::NodeId difference = b.add_weighted_sum(at + ".difference", {window, maximum}, {1, -1});
        const auto ranges = ir::worst_case_element_ranges(b.nodes())[difference];
        ir::Range domain = ranges[0];
        for (const ir::Range& r : ranges) domain = domain.hull(r);
        const ir::LookupTable relu = tabulate(
            domain, [](int64_t d) { return std::max<int64_t>(d, 0); }, true, "node '" + at + "'", context.budget());
        const ir::NodeId positive = b.add_table_lookup(at + ".relu", difference, {relu});
        maximum = b.add_weighted_sum(at + ".max", {maximum, positive}, {1, 1});
      }
    }
    EncodedTensor result;
    result.node = maximum;
    result.quantizer = in.quantizer;
    return result;
  }
};

}  // namespace

const GraphOp& average_pool() {
  static const AveragePool op(false);
  return op;
}

const GraphOp& global_average_pool() {
  static const AveragePool op(true);
  return op;
}

const GraphOp& max_pool() {
  static const MaxPool op;
  return op;
}

}  // namespace fhenn::compiler::ops
