// Quantization-aware layers: forward values and gradients against the Concrete ML documentation (Brevitas semantics).
#include "fhenn/nn/qat_layers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fhenn/common/error.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::nn {
namespace {

torch::Tensor doubles(const std::vector<double>& values) {
  return torch::tensor(values, torch::dtype(torch::kFloat64));
}

std::vector<double> values_of(const torch::Tensor& t) {
  const torch::Tensor flat = t.detach().contiguous().reshape({-1});
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

TEST(QatLayers, ConstantScaleFromRangeIsBrevitasMaxOverQmax) {
  EXPECT_DOUBLE_EQ(scale_from_range({3, true, true}, -1.0, 1.0), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(scale_from_range({4, true, true}, -2.0, 1.0), 2.0 / 7.0);
  EXPECT_DOUBLE_EQ(scale_from_range({3, true, false}, -1.0, 1.0), 1.0 / 3.0);  // qmax 3 either way
  EXPECT_DOUBLE_EQ(scale_from_range({3, false, false}, 0.0, 7.0), 1.0);
  EXPECT_DOUBLE_EQ(scale_from_range({3, false, true}, 0.0, 6.0), 1.0);  // unsigned narrow: [0, 6]
}

TEST(QatLayers, QuantIdentityClampsThenRoundsHalfToEven) {
  const ActivationQuantizer q = make_quant_identity({3, true, true}, -3.0, 3.0);  // scale 1
  const torch::Tensor x = doubles({0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 2.51, 3.6, -3.6, -100.0});
  EXPECT_EQ(values_of(q.integers(x)), (std::vector<double>{0, 2, 2, 0, -2, -2, 0, 3, 3, -3, -3}));
}

TEST(QatLayers, QuantIdentityOnUnitRangeHasThirdSteps) {
  const ActivationQuantizer q = make_quant_identity({3, true, true}, -1.0, 1.0);
  EXPECT_DOUBLE_EQ(q.scale_value(), 1.0 / 3.0);
  const torch::Tensor y = q.forward(doubles({0.2, 0.4, 0.9, 1.7, -0.9, -1.7}));
  const std::vector<double> expected = {1.0 / 3, 1.0 / 3, 1.0, 1.0, -1.0, -1.0};
  const std::vector<double> got = values_of(y);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(got[i], expected[i]) << i;
}

TEST(QatLayers, NarrowRangeDropsTheMostNegativeInteger) {
  const torch::Tensor x = doubles({-10.0, 10.0});
  EXPECT_EQ(values_of(make_quant_identity({3, true, true}, -3.0, 3.0).integers(x)), (std::vector<double>{-3, 3}));
  const ActivationQuantizer wide(QuantGrid{3, true, false}, 1.0, false, false);
  EXPECT_EQ(values_of(wide.integers(x)), (std::vector<double>{-4, 3}));
  const ActivationQuantizer unsigned_narrow(QuantGrid{3, false, true}, 1.0, false, false);
  EXPECT_EQ(values_of(unsigned_narrow.integers(x)), (std::vector<double>{0, 6}));
}

TEST(QatLayers, QuantIdentityGradientIsZeroWhereClamped) {
  const ActivationQuantizer q = make_quant_identity({3, true, true}, -1.0, 1.0);
  const torch::Tensor x = doubles({0.1, 0.5, -0.9, 1.2, -1.3}).set_requires_grad(true);
  q.forward(x).sum().backward();
  EXPECT_EQ(values_of(x.grad()), (std::vector<double>{1, 1, 1, 0, 0}));
}

TEST(QatLayers, WeightGradientPassesStraightThroughClampAndRound) {
  const torch::Tensor weight = doubles({0.2, -0.7, 3.0, -5.0, 0.0, 0.9}).reshape({2, 3});
  const QuantLinear linear(weight, doubles({0.0, 0.0}), QuantGrid{3, true, true}, 1.0);
  EXPECT_DOUBLE_EQ(linear.weight_scale(), 1.0 / 3.0);
  EXPECT_EQ(values_of(linear.integer_weights()), (std::vector<double>{1, -2, 3, -3, 0, 3}));
  (linear.integer_weights() * linear.weight_scale()).sum().backward();
  for (double g : values_of(linear.weight().grad())) EXPECT_NEAR(g, 1.0, 1e-12);
}

TEST(QatLayers, QuantLinearUsesQuantizedWeightsAndFloatBias) {
  const torch::Tensor weight = doubles({0.2, -0.7, 0.5, 0.9}).reshape({2, 2});
  const QuantLinear linear(weight, doubles({0.25, -0.5}), QuantGrid{3, true, true}, 1.0);
  // Integer weights [[1, -2], [2, 3]] (0.5 * 3 = 1.5 rounds to even 2), scale 1/3.
  const torch::Tensor y = linear.forward(doubles({3.0, 1.5}).reshape({1, 2}));
  const std::vector<double> got = values_of(y);
  EXPECT_NEAR(got[0], (3.0 * 1 - 1.5 * 2) / 3.0 + 0.25, 1e-12);
  EXPECT_NEAR(got[1], (3.0 * 2 + 1.5 * 3) / 3.0 - 0.5, 1e-12);
  y.sum().backward();
  EXPECT_NEAR(values_of(linear.bias().grad())[0], 1.0, 1e-12);
}

TEST(QatLayers, QuantReluLearnsItsScale) {
  const ActivationQuantizer q = make_quant_relu(3, 0.5);  // unsigned [0, 7]
  EXPECT_EQ(q.qmin(), 0);
  EXPECT_EQ(q.qmax(), 7);
  ASSERT_EQ(q.parameters().size(), 1u);
  const torch::Tensor x = doubles({-1.0, 0.7, 1.3, 10.0}).set_requires_grad(true);
  const torch::Tensor y = q.forward(x);
  EXPECT_EQ(values_of(y), (std::vector<double>{0.0, 0.5, 1.5, 3.5}));
  y.sum().backward();
  // dy/dx: 0 under the ReLU and above the clamp, 1 inside. dy/ds = q - x/s inside, qmax when clamped above.
  EXPECT_EQ(values_of(x.grad()), (std::vector<double>{0, 1, 1, 0}));
  const double expected_scale_grad = 0.0 + (1.0 - 0.7 / 0.5) + (3.0 - 1.3 / 0.5) + 7.0;
  EXPECT_NEAR(q.parameters()[0].grad().item<double>(), expected_scale_grad, 1e-12);
}

TEST(QatLayers, ExportedQuantizerGivesTheSameIntegers) {
  const std::vector<QuantGrid> grids = {{3, true, true}, {3, true, false}, {4, false, false}, {2, false, true}};
  std::vector<double> inputs;
  for (int k = -400; k <= 400; ++k) inputs.push_back(k * 0.0125);  // many exact ties at the steps below
  for (const QuantGrid& grid : grids) {
    for (double scale : {0.25, 1.0 / 3.0, 0.1, 0.7}) {
      const ActivationQuantizer q(grid, scale, false, false);
      const quant::UniformQuantizer exported = q.exported();
      EXPECT_EQ(exported.scale, scale);
      EXPECT_EQ(exported.zero_point, 0);
      const std::vector<double> integers = values_of(q.integers(doubles(inputs)));
      for (size_t i = 0; i < inputs.size(); ++i)
        ASSERT_EQ(static_cast<int64_t>(integers[i]), exported.quantize(inputs[i])) << inputs[i] << " / " << scale;
    }
  }
}

TEST(QatLayers, BadSettingsAreErrors) {
  EXPECT_THROW(make_quant_identity({1, true, true}, -1.0, 1.0), Error);
  EXPECT_THROW(make_quant_identity({17, true, true}, -1.0, 1.0), Error);
  EXPECT_THROW(make_quant_identity({3, true, true}, 0.0, 0.0), Error);
  EXPECT_THROW(make_quant_relu(3, 0.0), Error);
  EXPECT_THROW(make_quant_relu(3, -1.0), Error);
  EXPECT_THROW(make_quant_relu(3, 1.0).set_scale(std::nan("")), Error);
  EXPECT_THROW(QuantLinear(torch::zeros({2, 3}), torch::zeros({3}), QuantGrid{}, 1.0), Error);
  EXPECT_THROW(QuantLinear(torch::zeros({2, 3}), torch::zeros({2}), QuantGrid{}, 0.0), Error);
}

}  // namespace
}  // namespace fhenn::nn
