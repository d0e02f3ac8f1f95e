// Conv (2-D, ONNX semantics: strides, pads, dilations, groups), lowered to a conv2d node that stores its kernel.
#include "fhenn/common/error.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

size_t attribute_size(const GraphNode& node, const std::string& key, int64_t value) {
  FHENN_CHECK(value >= 0 && value <= (int64_t{1} << 16), "Conv '", node.name, "': attribute ", key, " holds ", value,
              "; it must be 0..65536");
  return static_cast<size_t>(value);
}

std::vector<int64_t> pair_attribute(const GraphNode& node, const std::string& key, size_t count, int64_t fallback) {
  const auto values = node.ints_or(key, std::vector<int64_t>(count, fallback));
  FHENN_CHECK(values.size() == count, "Conv '", node.name, "': attribute ", key, " must hold ", count, " integers");
  return values;
}

// The convolution's geometry from the node's attributes (the kernel left empty); throws naming the node.
ir::Conv2dOp geometry(const GraphNode& node, size_t in_channels) {
  ir::Conv2dOp op;
  op.groups = attribute_size(node, "group", node.int_or("group", 1));
  FHENN_CHECK(op.groups >= 1 && in_channels % op.groups == 0, "Conv '", node.name, "': ", op.groups,
              " groups do not divide its ", in_channels, " input channels");
  const auto kernel = pair_attribute(node, "kernel_shape", 2, 0);
  op.kernel_h = attribute_size(node, "kernel_shape", kernel[0]);
  op.kernel_w = attribute_size(node, "kernel_shape", kernel[1]);
  const size_t per_output = in_channels / op.groups * op.kernel_h * op.kernel_w;
  FHENN_CHECK(per_output > 0 && !node.weight.empty() && node.weight.size() % per_output == 0, "Conv '", node.name,
              "' has ", node.weight.size(), " weights; a ", op.kernel_h, "x", op.kernel_w, " kernel over ",
              in_channels / op.groups, " channels per group needs a multiple of ", per_output, " (set kernel_shape)");
  op.out_channels = node.weight.size() / per_output;
  FHENN_CHECK(node.bias.empty() || node.bias.size() == op.out_channels, "Conv '", node.name, "' has ", node.bias.size(),
              " biases for ", op.out_channels, " output channels");
  const auto strides = pair_attribute(node, "strides", 2, 1);
  const auto dilations = pair_attribute(node, "dilations", 2, 1);
  const auto pads = pair_attribute(node, "pads", 4, 0);
  op.stride_h = attribute_size(node, "strides", strides[0]);
  op.stride_w = attribute_size(node, "strides", strides[1]);
  op.dilation_h = attribute_size(node, "dilations", dilations[0]);
  op.dilation_w = attribute_size(node, "dilations", dilations[1]);
  op.pad_top = attribute_size(node, "pads", pads[0]);
  op.pad_left = attribute_size(node, "pads", pads[1]);
  op.pad_bottom = attribute_size(node, "pads", pads[2]);
  op.pad_right = attribute_size(node, "pads", pads[3]);
  return op;
}

class Conv final : public GraphOp {
 public:
  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    FHENN_CHECK(operands[0].size() == 3, "Conv '", node.name, "' reads a tensor of shape ", ir::shape_text(operands[0]),
                ": a 2-D convolution takes (channels, height, width)");
    return ir::conv2d_output_shape(geometry(node, operands[0][0]), operands[0], node.name);
  }

  // The definition, zero padding, in double.
  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    const Shape& in = operands[0]->shape;
    const ir::Conv2dOp op = geometry(node, in[0]);
    const size_t per_group = in[0] / op.groups;
    const size_t out_per_group = op.out_channels / op.groups;
    FloatTensor y{shape, {}};
    y.values.reserve(ir::shape_elements(shape));
    const std::vector<double> weights = reference_weights(node);
    const double* w = weights.data();
    for (size_t co = 0; co < shape[0]; ++co) {
      for (size_t oy = 0; oy < shape[1]; ++oy) {
        for (size_t ox = 0; ox < shape[2]; ++ox) {
          double sum = node.bias.empty() ? 0.0 : node.bias[co];
          for (size_t ci = 0; ci < per_group; ++ci) {
            const size_t channel = co / out_per_group * per_group + ci;
            for (size_t ky = 0; ky < op.kernel_h; ++ky) {
              const long iy = static_cast<long>(oy * op.stride_h + ky * op.dilation_h) - static_cast<long>(op.pad_top);
              for (size_t kx = 0; kx < op.kernel_w; ++kx) {
                const long ix =
                    static_cast<long>(ox * op.stride_w + kx * op.dilation_w) - static_cast<long>(op.pad_left);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(in[1]) || ix >= static_cast<long>(in[2])) continue;
                const double weight = w[((co * per_group + ci) * op.kernel_h + ky) * op.kernel_w + kx];
                sum +=
                    weight *
                    operands[0]->values[(channel * in[1] + static_cast<size_t>(iy)) * in[2] + static_cast<size_t>(ix)];
              }
            }
          }
          y.values.push_back(sum);
        }
      }
    }
    return y;
  }

  // Zero padding in float is the zero point in integers: the border holds each channel's z, and the constants
  // remove z from every position, (L1) per output channel. A per-channel input's scales fold into the kernel.
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                      LoweringContext& context) const override {
    const EncodedTensor in = context.linear_input(node.name + ".input", operands[0], operands[0].tensor);
    const size_t in_channels = context.builder().shape_of(in.node)[0];
    ir::Conv2dOp op = geometry(node, in_channels);
    // Weight k = ((co * per_group + ci) * kernel_h + ky) * kernel_w + kx reads channel co's group base + ci.
    const size_t per_group = in_channels / op.groups, out_per_group = op.out_channels / op.groups;
    const size_t window = op.kernel_h * op.kernel_w;
    const WeightChannel channel = [=](size_t k) {
      const size_t co = k / (per_group * window);
      return co / out_per_group * per_group + k / window % per_group;
    };
    const QuantizedWeights w = linear_op_weights(node, in, channel, op.out_channels, context);
    context.budget().charge(w.values.size());
    op.kernel = w.values;
    op.pad_values.clear();
    for (size_t c = 0; c < (in.is_per_channel() ? in_channels : 1); ++c) {
      op.pad_values.push_back(in.channel_quantizer(c).zero_point);
    }
    op.constants = zero_point_constants(w.values, op.out_channels, in, channel, node.name);
    const size_t channels = context.graph().shape(tensor)[0];
    const ir::NodeId acc = context.builder().add_conv2d(node.name + ".accumulator", in.node, std::move(op));
    return linear_op_accumulator(node, acc, in, w, channels, context);
  }
};

}  // namespace

const GraphOp& conv() {
  static const Conv op;
  return op;
}

}  // namespace fhenn::compiler::ops
