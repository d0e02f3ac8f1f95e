// Tests of the classifier: reproducible training that learns, pruning masks in both modes, export and import.
#include "fhenn/nn/mlp.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "fhenn/common/error.hpp"
#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/pruning.hpp"
#include "fhenn/nn/training.hpp"

namespace fhenn::nn {
namespace {

const Dataset& checkerboard() {
  static const Dataset data = make_checkerboard(1);
  return data;
}

// The first `n` training samples: keeps the tests fast.
LabelledSet first_samples(const LabelledSet& set, size_t n) {
  LabelledSet out{Matrix(n, set.features.cols), {set.labels.begin(), set.labels.begin() + static_cast<long>(n)}};
  std::copy_n(set.features.values.begin(), n * set.features.cols, out.features.values.begin());
  return out;
}

MlpTrainOptions quick_options(uint64_t seed, int epochs = 1) {
  MlpTrainOptions options;
  options.train.seed = seed;
  options.train.epochs = epochs;
  options.train.show_progress = false;
  return options;
}

std::vector<float> flat_parameters(const Mlp& model) {
  std::vector<float> values;
  for (const auto& p : model->parameters()) {
    const auto c = p.detach().contiguous();
    values.insert(values.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return values;
}

TEST(TrainOptions, DefaultsAreTheReferenceRecipe) {
  const TrainOptions options;
  EXPECT_EQ(options.epochs, 5);
  EXPECT_EQ(options.batch_size, 1);
  EXPECT_DOUBLE_EQ(options.learning_rate, 1e-3);
  EXPECT_DOUBLE_EQ(options.weight_decay, 0.01);
  EXPECT_TRUE(options.shuffle);
  EXPECT_EQ(options.schedule, LrSchedule::constant);
  EXPECT_FALSE(MlpTrainOptions{}.standardize_inputs);
  EXPECT_TRUE(improved_recipe({}).standardize_inputs);
}

TEST(LrSchedule, CosineAnnealsFromTheBaseToZero) {
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(LrSchedule::constant, 1e-3, 70, 100), 1e-3);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(LrSchedule::cosine, 1e-3, 0, 100), 1e-3);
  EXPECT_NEAR(scheduled_learning_rate(LrSchedule::cosine, 1e-3, 50, 100), 0.5e-3, 1e-15);
  EXPECT_NEAR(scheduled_learning_rate(LrSchedule::cosine, 1e-3, 75, 100), 0.5e-3 * (1 - std::sqrt(0.5)), 1e-15);
  EXPECT_LT(scheduled_learning_rate(LrSchedule::cosine, 1e-3, 99, 100), 1e-6);
  EXPECT_EQ(parse_lr_schedule("cosine"), LrSchedule::cosine);
  EXPECT_EQ(to_string(parse_lr_schedule("constant")), "constant");
  EXPECT_THROW(parse_lr_schedule("step"), Error);
}

TEST(Mlp, HasTheRequestedShapeAndNames) {
  Mlp model = make_mlp({3, {7, 5, 4}, 3}, 1);
  ASSERT_EQ(model->layers().size(), 4u);
  EXPECT_EQ(model->layers()[0]->weight.sizes(), (std::vector<int64_t>{7, 3}));
  EXPECT_EQ(model->layers()[3]->weight.sizes(), (std::vector<int64_t>{3, 4}));
  const auto names = model->named_parameters().keys();
  EXPECT_EQ(names.front(), "fc1.weight");
  EXPECT_EQ(model->forward(torch::zeros({2, 3})).sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_THROW(make_mlp({0, {4}, 2}, 1), Error);
  EXPECT_THROW(make_mlp({2, {0}, 2}, 1), Error);
  EXPECT_THROW(make_mlp({2, {4}, 1}, 1), Error);
}

TEST(Mlp, InitialisationIsSeededAndBoundedLikeTorch) {
  const auto a = flat_parameters(make_mlp(MlpShape::simple_net(30), 5));
  const auto b = flat_parameters(make_mlp(MlpShape::simple_net(30), 5));
  const auto c = flat_parameters(make_mlp(MlpShape::simple_net(30), 6));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  Mlp model = make_mlp(MlpShape::simple_net(30), 5);
  const double bound = 1.0 / std::sqrt(30.0);  // fc2: fan_in 30
  EXPECT_LE(model->layers()[1]->weight.abs().max().item<double>(), bound);
  EXPECT_GT(model->layers()[1]->weight.abs().max().item<double>(), 0.9 * bound);
}

TEST(Training, IsReproducibleForASeed) {
  const auto train = first_samples(checkerboard().train, 500);
  const auto a = train_mlp(MlpShape::simple_net(10), train, quick_options(3));
  const auto b = train_mlp(MlpShape::simple_net(10), train, quick_options(3));
  const auto c = train_mlp(MlpShape::simple_net(10), train, quick_options(4));
  EXPECT_EQ(flat_parameters(a.model), flat_parameters(b.model));
  EXPECT_EQ(a.training.final_loss, b.training.final_loss);
  EXPECT_NE(flat_parameters(a.model), flat_parameters(c.model));
}

TEST(Training, LearnsTheCheckerboard) {
  const auto& data = checkerboard();
  const auto trained = train_mlp(MlpShape::simple_net(30), data.train, quick_options(2, 2));
  const double test_accuracy = accuracy(forward_of(trained.model), data.test);
  EXPECT_GT(test_accuracy, 0.65);  // chance is 0.5; the reference reaches 83% with 5 epochs
  EXPECT_GT(trained.training.train_accuracy, 0.6);
  EXPECT_GT(trained.training.seconds, 0.0);
}

TEST(Training, EveryRecipePartIsConfigurable) {
  const auto train = first_samples(checkerboard().train, 256);
  auto options = quick_options(1, 2);
  options.train.batch_size = 32;
  options.train.learning_rate = 1e-2;
  options.train.weight_decay = 0.0;
  options.train.shuffle = false;
  const auto unshuffled = train_mlp({2, {8}, 2}, train, options);
  const auto again = train_mlp({2, {8}, 2}, train, options);
  EXPECT_EQ(flat_parameters(unshuffled.model), flat_parameters(again.model));
  options.train.shuffle = true;
  EXPECT_NE(flat_parameters(train_mlp({2, {8}, 2}, train, options).model), flat_parameters(unshuffled.model));
}

TEST(Training, TheCosineScheduleChangesTheTrajectoryButNotTheFirstStep) {
  const auto train = first_samples(checkerboard().train, 64);
  auto options = quick_options(7);
  options.train.batch_size = 64;  // one step per epoch: the first step has lr = base under both schedules
  const auto constant = train_mlp(MlpShape::simple_net(6), train, options);
  options.train.schedule = LrSchedule::cosine;
  const auto cosine = train_mlp(MlpShape::simple_net(6), train, options);
  EXPECT_EQ(flat_parameters(constant.model), flat_parameters(cosine.model));
  options.train.epochs = 3;
  const auto cosine3 = train_mlp(MlpShape::simple_net(6), train, options);
  options.train.schedule = LrSchedule::constant;
  const auto constant3 = train_mlp(MlpShape::simple_net(6), train, options);
  EXPECT_NE(flat_parameters(constant3.model), flat_parameters(cosine3.model));
}

TEST(Training, StandardizationIsMeasuredOnTheTrainingSet) {
  const auto train = first_samples(checkerboard().train, 400);
  auto options = quick_options(1);
  options.standardize_inputs = true;
  const auto trained = train_mlp(MlpShape::simple_net(4), train, options);
  const auto features = to_tensor(train.features).to(torch::kFloat64);
  const auto mean = features.mean(0);
  const auto std = (features - mean).pow(2).mean(0).sqrt();
  EXPECT_TRUE(torch::allclose(trained.model->input_mean().to(torch::kFloat64), mean, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(trained.model->input_inverse_std().to(torch::kFloat64), 1.0 / std, 1e-5, 1e-5));
}

TEST(Training, StandardizedInputsLearnTheCheckerboardBetter) {
  // Same seed, data and steps: only the inputs' standardisation differs (the reference recipe otherwise).
  const auto& data = checkerboard();
  auto options = quick_options(2, 2);
  const double plain = accuracy(forward_of(train_mlp(MlpShape::simple_net(10), data.train, options).model), data.test);
  options.standardize_inputs = true;
  const double standardized =
      accuracy(forward_of(train_mlp(MlpShape::simple_net(10), data.train, options).model), data.test);
  EXPECT_GT(standardized, plain + 0.05);
}

TEST(Training, RejectsBadOptions) {
  const auto train = first_samples(checkerboard().train, 16);
  for (auto change : std::vector<std::function<void(TrainOptions&)>>{
           [](TrainOptions& o) { o.epochs = 0; }, [](TrainOptions& o) { o.batch_size = 0; },
           [](TrainOptions& o) { o.learning_rate = 0; }, [](TrainOptions& o) { o.weight_decay = -1; }}) {
    auto options = quick_options(1);
    change(options.train);
    EXPECT_THROW(train_mlp(MlpShape::simple_net(4), train, options), Error);
  }
  EXPECT_THROW(train_mlp({3, {4}, 2}, train, quick_options(1)), Error);  // 3 inputs, data has 2 features
}

// ---- pruning ------------------------------------------------------------------------------------------------

int64_t non_zero(const torch::Tensor& t) {
  return t.ne(0).sum().item<int64_t>();
}

TEST(Pruning, LayerModeZeroesTheReferenceCountPerLayer) {
  Mlp model = make_mlp(MlpShape::simple_net(20), 1);
  const auto masks = make_masks(model->weights(), 5, PruneMode::layer);
  ASSERT_EQ(masks.masks.size(), 3u);
  EXPECT_FALSE(masks.masks[0].defined());       // fc1: fan_in 2 <= 5, left alone as the reference does
  EXPECT_EQ(non_zero(masks.masks[1]), 5 * 20);  // (20 - 5) * 20 of 400 zeroed
  EXPECT_EQ(non_zero(masks.masks[2]), 5 * 2);   // (20 - 5) * 2 of 40 zeroed
  // The kept weights are the largest in magnitude of the whole layer.
  const auto w = model->weights()[1].detach().abs();
  const double smallest_kept = w.masked_select(masks.masks[1].to(torch::kBool)).min().item<double>();
  const double largest_dropped = w.masked_select(masks.masks[1].eq(0)).max().item<double>();
  EXPECT_GE(smallest_kept, largest_dropped);
}

TEST(Pruning, NeuronModeBoundsEveryNeuron) {
  Mlp model = make_mlp(MlpShape::simple_net(20), 1);
  const auto masks = make_masks(model->weights(), 5, PruneMode::neuron);
  for (size_t i = 1; i < 3; ++i) {
    const auto per_row = masks.masks[i].ne(0).sum(1);
    EXPECT_TRUE(per_row.eq(5).all().item<bool>()) << "layer " << i;
    const auto w = model->weights()[i].detach().abs();
    for (int64_t row = 0; row < w.size(0); ++row) {
      const auto keep = masks.masks[i][row].to(torch::kBool);
      EXPECT_GE(w[row].masked_select(keep).min().item<double>(), w[row].masked_select(~keep).max().item<double>());
    }
  }
}

TEST(Pruning, LayerModeOnlyBoundsTheAverage) {
  // Per layer, some neuron may keep more than max_non_zero weights: the reference's bound is only on average.
  Mlp model = make_mlp(MlpShape::simple_net(100), 1);
  auto weights = model->weights();
  apply_masks(make_masks(weights, 10, PruneMode::layer), weights);
  EXPECT_EQ(non_zero(weights[1]), 1000);
  EXPECT_GT(max_non_zero_per_neuron(weights[1]), 10);
  apply_masks(make_masks(weights, 10, PruneMode::neuron), weights);
  EXPECT_LE(max_non_zero_per_neuron(weights[1]), 10);
}

TEST(Pruning, MaskIsHeldDuringTrainingAndPermanentAfter) {
  const auto train = first_samples(checkerboard().train, 300);
  for (const auto mode : {PruneMode::layer, PruneMode::neuron}) {
    auto options = quick_options(7);
    options.pruning = PruningOptions{3, mode};
    const auto trained = train_mlp(MlpShape::simple_net(12), train, options);
    ASSERT_TRUE(trained.masks.has_value());
    // The masks came from the initial weights: the same seed's untrained model gives the same masks.
    const auto initial = make_masks(make_mlp(MlpShape::simple_net(12), 7)->weights(), 3, mode);
    const auto weights = trained.model->weights();
    for (size_t i = 1; i < 3; ++i) {
      EXPECT_TRUE(torch::equal(trained.masks->masks[i], initial.masks[i])) << to_string(mode) << " layer " << i;
      // Pruned weights are exactly zero, kept ones moved away from zero by training.
      EXPECT_TRUE(weights[i].detach().masked_select(initial.masks[i].eq(0)).eq(0).all().item<bool>());
      EXPECT_EQ(non_zero(weights[i]), non_zero(initial.masks[i]));
    }
    // Permanent: the exported model holds the zeros.
    const auto exported = export_float_mlp(trained.model);
    const auto zeros = std::count(exported.layers[1].weight.begin(), exported.layers[1].weight.end(), 0.0);
    EXPECT_EQ(zeros, 12 * 12 - non_zero(initial.masks[1]));
  }
}

TEST(Pruning, RejectsBadArguments) {
  Mlp model = make_mlp(MlpShape::simple_net(4), 1);
  EXPECT_THROW(make_masks(model->weights(), 0, PruneMode::layer), Error);
  EXPECT_THROW(make_masks({torch::zeros({3})}, 1, PruneMode::layer), Error);
  EXPECT_EQ(parse_prune_mode("neuron"), PruneMode::neuron);
  EXPECT_EQ(parse_prune_mode("layer"), PruneMode::layer);
  EXPECT_THROW(parse_prune_mode("row"), Error);
}

// ---- export / import ----------------------------------------------------------------------------------------

TEST(Export, RoundTripsThroughFloatMlp) {
  Mlp model = make_mlp({3, {6, 5, 4}, 3}, 9);
  const auto exported = export_float_mlp(model);
  ASSERT_EQ(exported.layers.size(), 4u);
  EXPECT_EQ(exported.input_size, 3);
  EXPECT_EQ(exported.layers[0].name, "fc1");
  EXPECT_EQ(exported.layers[0].activation, compiler::Activation::relu);
  EXPECT_EQ(exported.layers[3].activation, compiler::Activation::identity);
  EXPECT_EQ(exported.layers[1].weight.size(), 30u);
  // Row-major [out, in]: weight[o * in + i] is torch's weight[o][i].
  EXPECT_EQ(exported.layers[1].weight[1 * 6 + 2], model->layers()[1]->weight[1][2].item<float>());
  Mlp imported = import_float_mlp(exported);
  EXPECT_EQ(flat_parameters(imported), flat_parameters(model));
  const auto x = torch::rand({5, 3});
  EXPECT_TRUE(torch::equal(imported->forward(x), model->forward(x)));
}

TEST(Export, FoldsTheInputStandardizationIntoTheFirstLayer) {
  Mlp model = make_mlp({3, {6, 5}, 2}, 4);
  {
    torch::NoGradGuard no_grad;
    model->layers()[0]->weight[2][1] = 0.0F;  // a pruned weight stays exactly zero
  }
  model->set_input_standardization({0.5, -1.0, 2.0}, {3.0, 0.25, 1.5});
  const auto exported = export_float_mlp(model);
  EXPECT_EQ(exported.layers[0].weight[2 * 3 + 1], 0.0);
  EXPECT_DOUBLE_EQ(exported.layers[0].weight[1 * 3 + 2], 1.5 * model->layers()[0]->weight[1][2].item<float>());
  Mlp imported = import_float_mlp(exported);  // plain fc1 on the raw features
  EXPECT_TRUE(torch::equal(imported->input_mean(), torch::zeros({3})));
  const auto x = torch::rand({20, 3}) * 4.0 - 2.0;
  EXPECT_TRUE(torch::allclose(imported->forward(x), model->forward(x), 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(make_mlp({3, {6, 5}, 2}, 4)->forward(x), model->forward(x), 1e-4, 1e-5));
  EXPECT_THROW(model->set_input_standardization({0.0}, {1.0}), Error);
}

TEST(Export, ImportRejectsMalformedModels) {
  const auto good = export_float_mlp(make_mlp({2, {4}, 2}, 1));
  auto bad = good;
  bad.layers[1].in_features = 5;
  EXPECT_THROW(import_float_mlp(bad), Error);
  bad = good;
  bad.layers[0].weight.pop_back();
  EXPECT_THROW(import_float_mlp(bad), Error);
  bad = good;
  bad.layers[1].activation = compiler::Activation::relu;
  EXPECT_THROW(import_float_mlp(bad), Error);
  bad = good;
  bad.layers[0].bias.push_back(0.0);
  EXPECT_THROW(import_float_mlp(bad), Error);
  bad.layers.clear();
  EXPECT_THROW(import_float_mlp(bad), Error);
}

}  // namespace
}  // namespace fhenn::nn
