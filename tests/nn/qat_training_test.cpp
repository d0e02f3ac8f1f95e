// QAT training: seeded runs reproduce, pruning holds, the experiment and demo settings are the documented ones.
#include "fhenn/nn/qat_training.hpp"

#include <gtest/gtest.h>

#include "fhenn/common/error.hpp"
#include "test_support.hpp"

namespace fhenn::nn {
namespace {

Dataset small_checkerboard(uint64_t seed, size_t keep) {
  Dataset data = make_checkerboard(seed);
  data.train.features.rows = keep;
  data.train.features.values.resize(keep * data.train.features.cols);
  data.train.labels.resize(keep);
  return data;
}

QatTrainOptions small_options(uint64_t seed) {
  QatTrainOptions options;
  options.net.hidden_sizes = {20, 20};
  options.net.rounding_threshold_bits = 5;
  options.net.rounding_noise_margin = 0.2;
  options.net.input_range = InputRange::learned;
  options.net.seed = seed;
  options.train.seed = seed;
  options.train.epochs = 1;
  options.train.show_progress = false;
  options.max_non_zero = 6;
  options.prune_mode = PruneMode::neuron;
  return options;
}

TEST(QatTraining, SeededRunsAreReproducible) {
  const Dataset data = small_checkerboard(3, 600);
  const QatTrainResult first = train_qat(data, small_options(1));
  const QatTrainResult second = train_qat(data, small_options(1));
  const QatTrainResult other = train_qat(data, small_options(2));
  ASSERT_EQ(first.net.parameters().size(), second.net.parameters().size());
  for (size_t i = 0; i < first.net.parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(first.net.parameters()[i], second.net.parameters()[i])) << "parameter " << i;
  EXPECT_EQ(first.test_accuracy, second.test_accuracy);
  EXPECT_EQ(first.net.predict(data.test.features).output_integers,
            second.net.predict(data.test.features).output_integers);
  EXPECT_FALSE(torch::equal(first.net.weights()[1], other.net.weights()[1]));
}

TEST(QatTraining, PruningHoldsAfterTraining) {
  const Dataset data = small_checkerboard(4, 400);
  QatTrainOptions options = small_options(3);
  const QatTrainResult neuron = train_qat(data, options);
  EXPECT_LE(neuron.max_non_zero_per_neuron, 6);
  for (const compiler::QatLayer& layer : neuron.net.to_qat_mlp().layers) {
    if (layer.layer.in_features <= 6) continue;
    for (int o = 0; o < layer.layer.out_features; ++o) {
      int non_zero = 0;
      for (int i = 0; i < layer.layer.in_features; ++i)
        non_zero += layer.layer.weight[static_cast<size_t>(o * layer.layer.in_features + i)] != 0.0;
      EXPECT_LE(non_zero, 6) << layer.layer.name << " neuron " << o;
    }
  }
  options.prune_mode = PruneMode::layer;  // the reference: only the layer's total is bounded
  const QatTrainResult layer = train_qat(data, options);
  const torch::Tensor w = layer.net.weights()[1];
  EXPECT_EQ((w != 0).sum().item<int64_t>(), 6 * w.size(0));
}

TEST(QatTraining, InitialNetIsWhereTrainingStarts) {
  const Dataset data = small_checkerboard(4, 300);
  QatTrainOptions options = small_options(3);
  options.net.rounding_noise_margin = 0.0;
  options.net.lookup_noise = LookupNoise{.variance_per_squared_norm = 1e-7, .variance_constant = 1e-6};
  const QatNet initial = initial_qat_net(data, options);
  EXPECT_EQ(initial.options().input_size, 2);
  for (const torch::Tensor& w : initial.weights()) {
    if (w.size(1) > 6) {
      EXPECT_EQ(max_non_zero_per_neuron(w), 6);  // pruned, from the initial weights
    }
  }
  const QatTrainResult trained = train_qat(data, options);  // the same masks hold after training
  for (size_t i = 0; i < initial.weights().size(); ++i) {
    EXPECT_TRUE(torch::equal(initial.weights()[i] == 0, trained.net.weights()[i] == 0)) << "layer " << i;
  }
  options.max_non_zero = -1;
  EXPECT_THROW(initial_qat_net(data, options), Error);
}

TEST(QatTraining, BadOptionsAreErrors) {
  const Dataset data = small_checkerboard(5, 100);
  QatTrainOptions options = small_options(1);
  options.max_non_zero = -1;
  EXPECT_THROW(train_qat(data, options), Error);
  options = small_options(1);
  options.net.bits = 0;
  EXPECT_THROW(train_qat(data, options), Error);
  Dataset empty = data;
  empty.train = LabelledSet{};
  EXPECT_THROW(train_qat(empty, small_options(1)), Error);
}

TEST(QatTraining, ExperimentRowsFollowTheGuide) {
  const auto rows = qat_experiment_rows(7, 2);
  ASSERT_GE(rows.size(), 4u);
  for (const QatExperimentRow& row : rows) {
    EXPECT_EQ(row.options.net.hidden_sizes, (std::vector<int>{100, 100}));
    EXPECT_EQ(row.options.net.bits, 3);
    EXPECT_EQ(row.options.train.epochs, 2);
    EXPECT_EQ(row.options.net.seed, 7u);
    EXPECT_TRUE(row.options.max_non_zero == 30 || row.options.max_non_zero == 20);
  }
  const QatTrainOptions demo = demo_qat_config();
  EXPECT_EQ(demo.net.hidden_sizes, (std::vector<int>{100, 100}));
  EXPECT_FALSE(demo.net.rounding_threshold_bits.has_value());  // exact lookups
  EXPECT_EQ(demo.net.input_bits, 2);                           // 16 possible inputs: exact ranges
  EXPECT_EQ(demo.net.weight_bits, 2);
  const QatTrainOptions rounded = demo_rounding_qat_config();
  EXPECT_EQ(rounded.max_non_zero, 20);
  EXPECT_EQ(rounded.net.rounding_threshold_bits, 4);
  EXPECT_EQ(rounded.net.rounding_fit, RoundingFit::neuron_spans);
  EXPECT_EQ(rounded.net.weight_bits, 2);  // ternary: a lookup's squared weight norm <= 20 keeps one PBS level
}

}  // namespace
}  // namespace fhenn::nn
