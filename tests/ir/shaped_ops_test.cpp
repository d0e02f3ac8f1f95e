// Tests of the shaped ops: convolution, weighted sum, reshape, concat, slice, per-channel tables; their checks,
// ranges, printing and serialization.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "fhenn/common/error.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/printer.hpp"
#include "fhenn/ir/ranges.hpp"
#include "fhenn/ir/serialize.hpp"
#include "test_support.hpp"

namespace fhenn::ir {
namespace {

std::vector<int64_t> run(const Circuit& c, const std::vector<int64_t>& inputs) {
  std::vector<int64_t> values(c.node_values_size());
  evaluate_nodes(c, inputs, values);
  std::vector<int64_t> out(c.output_width());
  gather_outputs(c, values, out);
  return out;
}

using testing::expect_error_containing;

// The convolution written out from its definition, independent of the circuit's term visitor.
std::vector<int64_t> reference_conv2d(const Conv2dOp& op, const Shape& in_shape, const std::vector<int64_t>& in) {
  const Shape out_shape = conv2d_output_shape(op, in_shape, "reference");
  const long C = static_cast<long>(in_shape[0]), H = static_cast<long>(in_shape[1]), W = static_cast<long>(in_shape[2]);
  const long in_per_group = C / static_cast<long>(op.groups);
  const long out_per_group = static_cast<long>(op.out_channels / op.groups);
  std::vector<int64_t> out;
  for (long co = 0; co < static_cast<long>(out_shape[0]); ++co) {
    for (long oy = 0; oy < static_cast<long>(out_shape[1]); ++oy) {
      for (long ox = 0; ox < static_cast<long>(out_shape[2]); ++ox) {
        int64_t sum = op.constants.empty() ? 0 : op.constants[static_cast<size_t>(co)];
        for (long ci = 0; ci < in_per_group; ++ci) {
          const long channel = co / out_per_group * in_per_group + ci;
          for (long ky = 0; ky < static_cast<long>(op.kernel_h); ++ky) {
            for (long kx = 0; kx < static_cast<long>(op.kernel_w); ++kx) {
              const long iy = oy * static_cast<long>(op.stride_h) + ky * static_cast<long>(op.dilation_h) -
                              static_cast<long>(op.pad_top);
              const long ix = ox * static_cast<long>(op.stride_w) + kx * static_cast<long>(op.dilation_w) -
                              static_cast<long>(op.pad_left);
              const int64_t x = iy < 0 || ix < 0 || iy >= H || ix >= W
                                    ? op.pad_value(static_cast<size_t>(channel))
                                    : in[static_cast<size_t>((channel * H + iy) * W + ix)];
              sum += op.kernel[static_cast<size_t>(((co * in_per_group + ci) * static_cast<long>(op.kernel_h) + ky) *
                                                       static_cast<long>(op.kernel_w) +
                                                   kx)] *
                     x;
            }
          }
        }
        out.push_back(sum);
      }
    }
  }
  return out;
}

Circuit conv_circuit(const Shape& in_shape, const Conv2dOp& op, Range range = {0, 9}) {
  CircuitBuilder b;
  const NodeId x = b.add_input("x", in_shape, range);
  b.add_output("y", b.add_conv2d("conv", x, op));
  return std::move(b).build();
}

TEST(Conv2d, HandComputedCaseWithPaddingValue) {
  // 1x3x3 input 1..9, kernel [[1, 0], [0, 1]] (the diagonal), padding 1 holding 10.
  Conv2dOp op;
  op.kernel_h = op.kernel_w = 2;
  op.kernel = {1, 0, 0, 1};
  EXPECT_EQ(run(conv_circuit({1, 3, 3}, op), {1, 2, 3, 4, 5, 6, 7, 8, 9}), (std::vector<int64_t>{6, 8, 12, 14}));
  op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = 1;
  op.pad_values = {10};
  op.constants = {-1};
  const Circuit padded = conv_circuit({1, 3, 3}, op);
  EXPECT_EQ(padded.node(1).shape, (Shape{1, 4, 4}));
  const auto out = run(padded, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(out[0], 10 + 1 - 1);   // (-1, -1) is padding, (0, 0) holds 1
  EXPECT_EQ(out[1], 10 + 2 - 1);   // (-1, 0) padding, (0, 1) holds 2
  EXPECT_EQ(out[5], 1 + 5 - 1);    // interior: (0, 0) and (1, 1)
  EXPECT_EQ(out[15], 9 + 10 - 1);  // (2, 2) and padding
}

TEST(Conv2d, DepthwiseGroupsScaleEachChannelAlone) {
  Conv2dOp op;
  op.out_channels = 2;
  op.groups = 2;
  op.kernel = {2, 3};
  EXPECT_EQ(run(conv_circuit({2, 1, 2}, op), {1, 2, 3, 4}), (std::vector<int64_t>{2, 4, 9, 12}));
}

TEST(Conv2d, EqualsItsDefinitionOnRandomShapesStridesDilationsAndGroups) {
  std::mt19937_64 rng(5);
  struct Case {
    Shape in;
    size_t out_channels, kernel, stride, dilation, pad, groups;
  };
  const Case cases[] = {{{3, 5, 6}, 4, 3, 1, 1, 1, 1},
                        {{4, 7, 7}, 2, 3, 2, 1, 0, 2},
                        {{2, 6, 5}, 2, 2, 1, 2, 2, 2},
                        {{1, 4, 4}, 3, 4, 1, 1, 0, 1},
                        {{6, 5, 5}, 6, 3, 2, 1, 1, 6}};
  for (const Case& c : cases) {
    Conv2dOp op;
    op.out_channels = c.out_channels;
    op.kernel_h = op.kernel_w = c.kernel;
    op.stride_h = op.stride_w = c.stride;
    op.dilation_h = op.dilation_w = c.dilation;
    op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = c.pad;
    op.groups = c.groups;
    // One pad value for all channels, or (every other case) one per channel.
    op.pad_values = {2};
    if ((&c - cases) % 2 == 1) {
      op.pad_values.resize(c.in[0]);
      for (auto& p : op.pad_values) p = static_cast<int64_t>(rng() % 9) - 4;
    }
    op.kernel.resize(c.out_channels * c.in[0] / c.groups * c.kernel * c.kernel);
    for (auto& w : op.kernel) w = static_cast<int64_t>(rng() % 7) - 3;
    op.constants.resize(c.out_channels);
    for (auto& k : op.constants) k = static_cast<int64_t>(rng() % 11) - 5;
    const Circuit circuit = conv_circuit(c.in, op, {-4, 4});
    std::vector<int64_t> input(shape_elements(c.in));
    for (auto& v : input) v = static_cast<int64_t>(rng() % 9) - 4;
    EXPECT_EQ(run(circuit, input), reference_conv2d(op, c.in, input)) << shape_text(c.in);
    // Worst-case ranges hold every value computed.
    const auto ranges = worst_case_element_ranges(circuit.nodes());
    const auto out = run(circuit, input);
    for (size_t i = 0; i < out.size(); ++i) EXPECT_TRUE(ranges[1][i].contains(out[i]));
  }
}

TEST(Conv2d, StoresTheKernelNotAnImageSquaredMatrix) {
  // 3x3, 8 -> 16 channels on 28x28: the node holds the kernel (1152 weights); a dense Toeplitz matrix would hold
  // (16 * 28 * 28) x (8 * 28 * 28) = 7.9 * 10^7.
  Conv2dOp op;
  op.out_channels = 16;
  op.kernel_h = op.kernel_w = 3;
  op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = 1;
  op.kernel.assign(16 * 8 * 9, 1);
  const Circuit c = conv_circuit({8, 28, 28}, op, {0, 3});
  EXPECT_EQ(std::get<Conv2dOp>(c.node(1).op).kernel.size(), 1152u);
  EXPECT_EQ(c.node(1).shape, (Shape{16, 28, 28}));
  EXPECT_LT(serialize_circuit(c).size(), 2 * 1152 * sizeof(int64_t) + 1024);
}

TEST(Conv2d, RefusesKernelsLargerThanThePaddedInputAndBadGroups) {
  Conv2dOp op;
  op.kernel_h = op.kernel_w = 4;
  op.kernel.assign(16, 1);
  expect_error_containing([&] { conv_circuit({1, 3, 3}, op); }, "kernel spans 4 row positions");
  op.pad_top = op.pad_bottom = op.pad_left = op.pad_right = 1;
  EXPECT_NO_THROW(conv_circuit({1, 3, 3}, op));
  Conv2dOp grouped;
  grouped.out_channels = 3;
  grouped.groups = 2;
  grouped.kernel.assign(3, 1);
  expect_error_containing([&] { conv_circuit({2, 2, 2}, grouped); }, "2 groups must divide");
  Conv2dOp flat;
  flat.kernel = {1};
  expect_error_containing([&] { conv_circuit({4}, flat); }, "takes (channels, height, width)");
  Conv2dOp wrong_kernel;
  wrong_kernel.kernel = {1, 2};
  expect_error_containing([&] { conv_circuit({1, 2, 2}, wrong_kernel); }, "kernel weights");
  Conv2dOp wrong_pads;
  wrong_pads.kernel = {1, 1};
  wrong_pads.pad_values = {0, 1, 2};
  expect_error_containing([&] { conv_circuit({2, 2, 2}, wrong_pads); }, "3 pad values for 2 operand channels");
}

TEST(WeightedSum, AddsAndSubtractsTensorsOfOneShape) {
  CircuitBuilder b;
  const NodeId x = b.add_input("x", Shape{2, 2}, Range{0, 5});
  const NodeId y = b.add_input("y", Shape{2, 2}, Range{0, 5});
  const NodeId sum = b.add_weighted_sum("residual", {x, y}, {1, -2}, 3);
  b.add_output("out", sum);
  const Circuit c = std::move(b).build();
  EXPECT_EQ(run(c, {1, 2, 3, 4, 5, 4, 3, 2}), (std::vector<int64_t>{1 - 10 + 3, 2 - 8 + 3, 3 - 6 + 3, 4 - 4 + 3}));
  EXPECT_EQ(worst_case_element_ranges(c.nodes())[2][0], (Range{0 - 10 + 3, 5 + 3}));

  CircuitBuilder bad;
  const NodeId a = bad.add_input("a", Shape{2, 2}, Range{0, 1});
  const NodeId d = bad.add_input("d", Shape{4}, Range{0, 1});
  bad.add_output("o", bad.add_weighted_sum("mismatch", {a, d}, {1, 1}));
  expect_error_containing([&] { std::move(bad).build(); }, "weighted sum 'mismatch' adds 'd' of shape 4");
}

TEST(ShapeOps, ReshapeConcatAndSliceMoveValuesWithoutChangingThem) {
  CircuitBuilder b;
  const NodeId x = b.add_input("x", Shape{2, 2, 3}, Range{0, 20});
  const NodeId y = b.add_input("y", Shape{1, 2, 3}, Range{0, 20});
  const NodeId joined = b.add_concat("joined", {x, y}, 0);  // 3x2x3
  const NodeId sliced = b.add_slice("sliced", joined, SliceOp{{1, 0, 0}, {1, 1, 2}}, Shape{2, 2, 2});
  b.add_output("out", b.add_reshape("flat", sliced, Shape{8}));
  const Circuit c = std::move(b).build();
  EXPECT_EQ(c.node(joined).shape, (Shape{3, 2, 3}));
  std::vector<int64_t> inputs;
  for (int64_t v = 0; v < 18; ++v) inputs.push_back(v);  // x = 0..11, y = 12..17: joined[k] = k
  // Channels 1 and 2, every row, columns 0 and 2.
  EXPECT_EQ(run(c, inputs), (std::vector<int64_t>{6, 8, 9, 11, 12, 14, 15, 17}));
  // Concat along the last axis interleaves rows.
  CircuitBuilder wide;
  const NodeId p = wide.add_input("p", Shape{2, 1}, Range{0, 9});
  const NodeId q = wide.add_input("q", Shape{2, 2}, Range{0, 9});
  wide.add_output("out", wide.add_concat("rows", {p, q}, 1));
  EXPECT_EQ(run(std::move(wide).build(), {1, 2, 3, 4, 5, 6}), (std::vector<int64_t>{1, 3, 4, 2, 5, 6}));
}

TEST(ShapeOps, RefuseMismatchedShapes) {
  CircuitBuilder b;
  const NodeId x = b.add_input("x", Shape{2, 3}, Range{0, 1});
  const NodeId y = b.add_input("y", Shape{3, 3}, Range{0, 1});
  expect_error_containing([&] { b.add_concat("c", {x, y}, 1); }, "they may differ along axis 1 only");
  b.add_output("o", b.add_slice("s", x, SliceOp{{0, 1}, {1, 2}}, Shape{2, 2}));
  expect_error_containing([&] { std::move(b).build(); }, "slice 's' reads index 3 of axis 1");
  CircuitBuilder r;
  const NodeId z = r.add_input("z", Shape{2, 3}, Range{0, 1});
  r.add_output("o", r.add_reshape("flat", z, Shape{5}));
  expect_error_containing([&] { std::move(r).build(); }, "reshape 'flat' gives 5 elements");
}

TEST(TableLookup, PerChannelAndSharedTables) {
  CircuitBuilder b;
  const NodeId x = b.add_input("x", Shape{2, 1, 2}, Range{0, 3});
  const NodeId per_channel =
      b.add_table_lookup("per_channel", x, {LookupTable{0, {0, 1, 2, 3}}, LookupTable{0, {10, 20, 30, 40}}});
  const NodeId shared = b.add_table_lookup("shared", x, {LookupTable{0, {5, 6, 7, 8}}});
  b.add_output("a", per_channel);
  b.add_output("b", shared);
  const Circuit c = std::move(b).build();
  EXPECT_EQ(c.node(per_channel).shape, (Shape{2, 1, 2}));
  EXPECT_EQ(run(c, {0, 1, 2, 3}), (std::vector<int64_t>{0, 1, 30, 40, 5, 6, 7, 8}));
}

TEST(ShapedCircuit, SerializesPrintsAndRefusesCorruptedShapes) {
  Conv2dOp op;
  op.out_channels = 2;
  op.kernel_h = op.kernel_w = 2;
  op.stride_h = op.stride_w = 2;
  op.kernel = {1, -1, 2, 0, 0, 1, 1, 1};
  op.constants = {1, 2};
  op.pad_top = 1;
  CircuitBuilder b;
  const NodeId x = b.add_input("x", Shape{1, 4, 4}, Range{0, 3});
  const NodeId conv = b.add_conv2d("conv", x, op);
  const NodeId relu = b.add_table_lookup("relu", conv, {LookupTable{0, {0, 1, 2, 3}}, LookupTable{0, {0, 2, 4, 6}}});
  const NodeId pooled = b.add_slice("corner", relu, SliceOp{{0, 0, 0}, {1, 1, 1}}, Shape{2, 1, 1});
  const NodeId both = b.add_weighted_sum("sum", {pooled, pooled}, {1, 1});
  const NodeId flat = b.add_reshape("flat", both, Shape{2});
  b.add_output("out", b.add_dot_product("fc", flat, 1, {1, -1}));
  const Circuit c = std::move(b).build();
  const auto bytes = serialize_circuit(c);
  EXPECT_EQ(deserialize_circuit(bytes, "shaped.fhc"), c);
  const std::string listing = print_circuit(c);
  EXPECT_NE(listing.find("conv2d conv [2x2x2] (%0)"), std::string::npos) << listing;
  EXPECT_NE(listing.find("kernel 2x2, stride 2x2"), std::string::npos) << listing;
  EXPECT_NE(listing.find("weighted_sum sum [2x1x1] (%3, %3)"), std::string::npos) << listing;
  // A node whose stored shape disagrees with its width is refused when read.
  std::vector<Node> nodes = c.nodes();
  nodes[1].shape = {2, 2, 3};
  expect_error_containing([&] { Circuit::from_nodes(nodes); }, "node 'conv' has width 8 but shape 2x2x3");
}

}  // namespace
}  // namespace fhenn::ir
