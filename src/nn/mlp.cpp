// Fully connected ReLU classifiers: construction, portable initialisation, pruned training, export and import.
#include "fhenn/nn/mlp.hpp"

#include <cmath>
#include <string>

#include "fhenn/common/error.hpp"
#include "fhenn/nn/random.hpp"

namespace fhenn::nn {
namespace {

constexpr uint64_t kInitStream = 4;

std::string layer_name(size_t index) {
  return "fc" + std::to_string(index + 1);
}

torch::Tensor to_float_tensor(const std::vector<double>& values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kFloat64).to(torch::kFloat32).reshape(shape);
}

// Per-feature mean and 1 / standard deviation of `features` (a constant feature keeps scale 1).
std::pair<std::vector<double>, std::vector<double>> feature_standardization(const Matrix& features) {
  std::vector<double> mean(features.cols, 0.0), inverse_std(features.cols, 1.0);
  const auto rows = static_cast<double>(features.rows);
  for (size_t r = 0; r < features.rows; ++r)
    for (size_t c = 0; c < features.cols; ++c) mean[c] += features.row(r)[c] / rows;
  for (size_t c = 0; c < features.cols; ++c) {
    double variance = 0.0;
    for (size_t r = 0; r < features.rows; ++r) variance += std::pow(features.row(r)[c] - mean[c], 2) / rows;
    if (variance > 0.0) inverse_std[c] = 1.0 / std::sqrt(variance);
  }
  return {mean, inverse_std};
}

}  // namespace

void MlpShape::check() const {
  FHENN_CHECK(input_size >= 1, "a network needs at least 1 input feature, got ", input_size);
  FHENN_CHECK(num_classes >= 2, "a classifier needs at least 2 classes, got ", num_classes);
  for (size_t i = 0; i < hidden_sizes.size(); ++i) {
    FHENN_CHECK(hidden_sizes[i] >= 1, "hidden layer ", i + 1, " needs at least 1 neuron, got ", hidden_sizes[i]);
  }
}

MlpImpl::MlpImpl(const MlpShape& shape) : shape_(shape) {
  shape_.check();
  int fan_in = shape.input_size;
  std::vector<int> widths = shape.hidden_sizes;
  widths.push_back(shape.num_classes);
  for (size_t i = 0; i < widths.size(); ++i) {
    layers_.push_back(register_module(layer_name(i), torch::nn::Linear(fan_in, widths[i])));
    fan_in = widths[i];
  }
  input_mean_ = register_buffer("input_mean", torch::zeros({shape.input_size}));
  input_inverse_std_ = register_buffer("input_inverse_std", torch::ones({shape.input_size}));
}

void MlpImpl::set_input_standardization(const std::vector<double>& mean, const std::vector<double>& inverse_std) {
  const auto n = static_cast<size_t>(shape_.input_size);
  FHENN_CHECK(mean.size() == n && inverse_std.size() == n, "input standardisation needs ", n, " means and scales, got ",
              mean.size(), " and ", inverse_std.size());
  torch::NoGradGuard no_grad;
  input_mean_.copy_(to_float_tensor(mean, {shape_.input_size}));
  input_inverse_std_.copy_(to_float_tensor(inverse_std, {shape_.input_size}));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  auto h = (x - input_mean_) * input_inverse_std_;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) h = torch::relu(layers_[i]->forward(h));
  return layers_.back()->forward(h);
}

std::vector<torch::Tensor> MlpImpl::weights() const {
  std::vector<torch::Tensor> result;
  for (const auto& layer : layers_) result.push_back(layer->weight);
  return result;
}

void initialize_weights(Mlp& model, uint64_t seed) {
  SplitMix64 rng(derive_seed(seed, kInitStream));
  torch::NoGradGuard no_grad;
  for (const auto& layer : model->layers()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(layer->weight.size(1)));
    fill_uniform(layer->weight, bound, rng);
    fill_uniform(layer->bias, bound, rng);
  }
}

Mlp make_mlp(const MlpShape& shape, uint64_t seed) {
  Mlp model(shape);
  initialize_weights(model, seed);
  return model;
}

std::function<torch::Tensor(const torch::Tensor&)> forward_of(Mlp model) {
  return [model](const torch::Tensor& x) mutable { return model->forward(x); };
}

TrainedMlp train_mlp(const MlpShape& shape, const LabelledSet& train, const MlpTrainOptions& options) {
  FHENN_CHECK(train.features.cols == static_cast<size_t>(shape.input_size), "the network takes ", shape.input_size,
              " features but the data has ", train.features.cols);
  TrainedMlp result;
  result.model = make_mlp(shape, options.train.seed);
  if (options.standardize_inputs) {
    const auto [mean, inverse_std] = feature_standardization(train.features);
    result.model->set_input_standardization(mean, inverse_std);
  }
  const auto weights = result.model->weights();
  std::function<void()> after_step;
  if (options.pruning) {
    result.masks = make_masks(weights, options.pruning->max_non_zero, options.pruning->mode);
    apply_masks(*result.masks, weights);
    after_step = [&masks = *result.masks, &weights] { apply_masks(masks, weights); };
  }
  result.training =
      train_classifier(result.model->parameters(), forward_of(result.model), train, options.train, after_step);
  if (result.masks) apply_masks(*result.masks, weights);  // permanent: the exported weights hold exact zeros
  return result;
}

MlpTrainOptions improved_recipe(MlpTrainOptions options) {
  options.standardize_inputs = true;
  return options;
}

// fc1 applied to (x - mean) * s equals fc1' applied to x with w'[o][i] = w[o][i] s[i] and
// b'[o] = b[o] - sum_i w'[o][i] mean[i]: the exported network takes the raw features.
void fold_input_standardization(const Mlp& model, compiler::DenseLayer& first) {
  const auto mean = to_doubles(model->input_mean());
  const auto scale = to_doubles(model->input_inverse_std());
  for (int o = 0; o < first.out_features; ++o) {
    for (int i = 0; i < first.in_features; ++i) {
      double& w = first.weight[static_cast<size_t>(o) * first.in_features + i];
      w *= scale[i];
      first.bias[o] -= w * mean[i];
    }
  }
}

compiler::FloatMlp export_float_mlp(const Mlp& model) {
  compiler::FloatMlp mlp;
  mlp.input_size = model->shape().input_size;
  const auto& layers = model->layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    compiler::DenseLayer dense;
    dense.name = layer_name(i);
    dense.in_features = static_cast<int>(layers[i]->weight.size(1));
    dense.out_features = static_cast<int>(layers[i]->weight.size(0));
    dense.weight = to_doubles(layers[i]->weight);
    dense.bias = to_doubles(layers[i]->bias);
    dense.activation = i + 1 < layers.size() ? compiler::Activation::relu : compiler::Activation::identity;
    mlp.layers.push_back(std::move(dense));
  }
  fold_input_standardization(model, mlp.layers.front());
  return mlp;
}

MlpShape shape_of(const compiler::FloatMlp& mlp) {
  FHENN_CHECK(!mlp.layers.empty(), "the model has no layers");
  MlpShape shape{mlp.input_size, {}, mlp.layers.back().out_features};
  int fan_in = mlp.input_size;
  for (size_t i = 0; i < mlp.layers.size(); ++i) {
    const auto& layer = mlp.layers[i];
    const bool last = i + 1 == mlp.layers.size();
    FHENN_CHECK(layer.in_features == fan_in, "layer ", layer.name, " takes ", layer.in_features,
                " inputs but the previous layer gives ", fan_in);
    FHENN_CHECK(layer.weight.size() == static_cast<size_t>(layer.in_features) * layer.out_features, "layer ",
                layer.name, " has ", layer.weight.size(), " weights where ", layer.out_features, " x ",
                layer.in_features, " are declared");
    FHENN_CHECK(layer.bias.empty() || layer.bias.size() == static_cast<size_t>(layer.out_features), "layer ",
                layer.name, " has ", layer.bias.size(), " biases for ", layer.out_features, " outputs");
    FHENN_CHECK(layer.activation == (last ? compiler::Activation::identity : compiler::Activation::relu), "layer ",
                layer.name, ": a fully connected classifier has ReLU after every hidden layer and none after the last");
    if (!last) shape.hidden_sizes.push_back(layer.out_features);
    fan_in = layer.out_features;
  }
  shape.check();
  return shape;
}

Mlp import_float_mlp(const compiler::FloatMlp& mlp) {
  Mlp model(shape_of(mlp));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < mlp.layers.size(); ++i) {
    const auto& dense = mlp.layers[i];
    const auto& linear = model->layers()[i];
    linear->weight.copy_(to_float_tensor(dense.weight, {dense.out_features, dense.in_features}));
    if (dense.bias.empty()) {
      linear->bias.zero_();
    } else {
      linear->bias.copy_(to_float_tensor(dense.bias, {dense.out_features}));
    }
  }
  return model;
}

}  // namespace fhenn::nn
