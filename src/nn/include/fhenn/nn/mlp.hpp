// Fully connected ReLU classifiers (SimpleNet and its generalisations), their training with optional pruning,
// and their export to / import from the compiler's torch-free FloatMlp.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <vector>

#include "fhenn/compiler/model.hpp"
#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/pruning.hpp"
#include "fhenn/nn/training.hpp"

namespace fhenn::nn {

// input_size -> hidden_sizes[0] -> ... -> hidden_sizes.back() -> num_classes, ReLU after every hidden layer.
// The guide's SimpleNet(h) is {2, {h, h}, 2}.
struct MlpShape {
  int input_size = 2;
  std::vector<int> hidden_sizes = {100, 100};
  int num_classes = 2;

  static MlpShape simple_net(int hidden) { return {2, {hidden, hidden}, 2}; }
  // Throws fhenn::Error unless every size is >= 1 and there are at least 2 classes.
  void check() const;
};

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const MlpShape& shape);

  // fc_last(relu(... relu(fc1((x - input_mean) * input_inverse_std)))): the standardisation is the identity
  // unless set, and export folds it into fc1.
  torch::Tensor forward(const torch::Tensor& x);
  const MlpShape& shape() const { return shape_; }
  // Per-feature standardisation of the inputs (training data mean and 1 / standard deviation).
  void set_input_standardization(const std::vector<double>& mean, const std::vector<double>& inverse_std);
  const torch::Tensor& input_mean() const { return input_mean_; }
  const torch::Tensor& input_inverse_std() const { return input_inverse_std_; }
  // The Linear layers in order, named fc1, fc2, ... as in the guide.
  const std::vector<torch::nn::Linear>& layers() const { return layers_; }
  std::vector<torch::Tensor> weights() const;

 private:
  MlpShape shape_;
  std::vector<torch::nn::Linear> layers_;
  torch::Tensor input_mean_, input_inverse_std_;  // buffers, [input_size]
};
TORCH_MODULE(Mlp);

// Re-initialises every layer as torch.nn.Linear does (weights and biases uniform in +-1/sqrt(fan_in)), but from
// fhenn's portable generator, so a seed gives the same initial network on every machine and in every thread.
void initialize_weights(Mlp& model, uint64_t seed);

// A new model of `shape` initialised from `seed`.
Mlp make_mlp(const MlpShape& shape, uint64_t seed);

struct PruningOptions {
  int max_non_zero = 0;
  PruneMode mode = PruneMode::layer;
};

struct MlpTrainOptions {
  TrainOptions train;                     // the reference recipe by default; train.seed also seeds initialisation
  std::optional<PruningOptions> pruning;  // masks from the initial weights, held while training, then permanent
  bool standardize_inputs = false;        // train on (x - mean) / std of the training set (folded into fc1 on export)
};

// The training recipe `fhenn experiment ptq` runs by default: the reference's (AdamW, lr 1e-3, weight decay 0.01,
// batch 1, 5 epochs) on standardised inputs, at the same cost. On the checkerboard ([0, 1] inputs) the ReLU
// hyperplanes of the default initialisation then cut through the data instead of crowding one corner.
MlpTrainOptions improved_recipe(MlpTrainOptions options);

struct TrainedMlp {
  Mlp model{nullptr};
  TrainResult training;
  std::optional<PruningMasks> masks;
};

// Builds, initialises (from options.train.seed), prunes if asked and trains a classifier on `train`.
TrainedMlp train_mlp(const MlpShape& shape, const LabelledSet& train, const MlpTrainOptions& options);

// The model's forward pass as a function (for train_classifier and accuracy).
std::function<torch::Tensor(const torch::Tensor&)> forward_of(Mlp model);

// Exports the trained weights (float32 widened to double) as a compiler::FloatMlp with layers fc1, fc2, ...
compiler::FloatMlp export_float_mlp(const Mlp& model);

// Rebuilds a torch model from a FloatMlp (e.g. a saved model): every layer but the last must be ReLU, the last
// identity, sizes chained and weights/biases of the declared sizes; otherwise fhenn::Error naming the layer.
Mlp import_float_mlp(const compiler::FloatMlp& mlp);

// The shape of a FloatMlp (after the same checks as import_float_mlp).
MlpShape shape_of(const compiler::FloatMlp& mlp);

}  // namespace fhenn::nn
