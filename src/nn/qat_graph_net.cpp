// Quantization-aware GraphNets (see qat_graph_net.hpp): one pass over the layers calibrates, trains, runs and exports.
#include "fhenn/nn/qat_graph_net.hpp"

#include <cmath>

#include "fhenn/common/assert.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/nn/qat_network.hpp"

namespace fhenn::nn {
namespace {

// A weight tensor (or channel) of zeros, e.g. a pruned one, gets this magnitude for its scale.
constexpr double kMinWeightMagnitude = 1e-8;

using Layer = GraphNet::Layer;

// A tensor of the forward pass as the circuit holds it: integers, quantized (value = scale * q) or an accumulator
// of a conv, linear, pool or sum (value = q * input_scale * weight_scale + bias, per channel, in that order).
struct Value {
  torch::Tensor ints;          // float64 [N, ...] holding integers
  torch::Tensor scale;         // quantized: its scale; accumulator: the input scale (0-dim)
  torch::Tensor weight_scale;  // accumulator: 0-dim, or [C] per channel
  torch::Tensor bias;          // accumulator: [C]
  int quantizer = -1;          // quantized: the index of its quantizer; -1: an accumulator
  std::string tensor;          // the model-graph tensor it is

  bool is_accumulator() const { return quantizer < 0; }

  // [C] as [1, C, 1, 1] or [1, C] against the integers; a 0-dim tensor as it is.
  torch::Tensor per_channel(const torch::Tensor& t) const {
    if (t.dim() == 0) return t;
    std::vector<int64_t> shape(static_cast<size_t>(ints.dim()), 1);
    shape[1] = t.size(0);
    return t.reshape(shape);
  }

  torch::Tensor values() const {
    if (!is_accumulator()) return ints * scale;
    return ints * scale * per_channel(weight_scale) + per_channel(bias);
  }
};

torch::Tensor scalar(double v) {
  return torch::tensor(v, torch::dtype(torch::kFloat64));
}

Value accumulator(torch::Tensor ints, torch::Tensor input_scale, torch::Tensor weight_scale, torch::Tensor bias,
                  std::string tensor) {
  return {std::move(ints), std::move(input_scale), std::move(weight_scale), std::move(bias), -1, std::move(tensor)};
}

// A quantizer for values calibration sees: the input's constant one from the data's range (QatNet's rule), or a
// learned one at the largest magnitude seen over qmax (nothing clamped at first), unsigned when no value is negative.
ActivationQuantizer calibrated_quantizer(const torch::Tensor& values, int bits, bool is_input) {
  if (is_input) return data_range_quantizer(values, bits, /*learn=*/false);
  const bool is_signed = values.min().item<double>() < 0.0;
  const QuantGrid grid{.bits = bits, .is_signed = is_signed, .narrow_range = false};
  const double magnitude = values.abs().max().item<double>();
  const double scale = magnitude > 0.0 ? scale_from_range(grid, 0.0, magnitude) : 1.0;
  return ActivationQuantizer(grid, scale, /*learn_scale=*/true, /*apply_relu=*/false);
}

// One forward pass: creating the quantizers (calibration), or reading them; with `graph`, also writing the nodes.
class QatPass {
 public:
  QatPass(const QatGraphOptions& options, const std::vector<ActivationQuantizer>& quantizers,
          std::vector<ActivationQuantizer>* creating, compiler::ModelGraph* graph)
      : options_(options), quantizers_(quantizers), creating_(creating), graph_(graph) {}

  Value input(const torch::Tensor& x) { return point(x, "input", "input.quant", std::nullopt, true); }

  // The layers from `h`; the last one, when an activation, quantizes on `last_quantizer` if given.
  Value layers(const std::vector<Layer>& layers, Value h, std::optional<int> last_quantizer) {
    for (size_t k = 0; k < layers.size(); ++k) {
      h = layer(layers[k], std::move(h), k + 1 == layers.size() ? last_quantizer : std::nullopt);
    }
    return h;
  }

 private:
  Value layer(const Layer& layer, Value h, std::optional<int> shared) {
    const std::string& op = layer.spec.op;
    if (op == "residual") return residual(layer, std::move(h));
    if (is_activation(op)) return activation(layer, h, shared);
    h = quantized(std::move(h));
    if (op == "conv" || op == "linear") return weighted(layer, h);
    if (op == "avgpool") return average_pool(layer, h);
    torch::Tensor ints;
    if (op == "maxpool") {
      ints = torch::max_pool2d(h.ints, layer.spec.kernel, layer.spec.stride);
    } else {
      FHENN_ASSERT(op == "flatten");
      ints = h.ints.flatten(1);
    }
    emit(GraphNet::layer_node(layer, h.tensor));
    return {ints, h.scale, {}, {}, h.quantizer, layer.name};
  }

  // The quantization point before an op that reads integers: nothing when `h` is already quantized.
  Value quantized(Value h) {
    if (!h.is_accumulator()) return h;
    return point(h.values(), h.tensor, h.tensor + ".quant", std::nullopt, false);
  }

  // Quantizes `values` (of tensor `source`) on quantizer `shared`, or on the next one; writes Quant node `name`.
  Value point(const torch::Tensor& values, const std::string& source, const std::string& name,
              std::optional<int> shared, bool is_input) {
    int index = shared.value_or(static_cast<int>(next_));
    if (!shared) {
      ++next_;
      if (creating_) {
        torch::NoGradGuard no_grad;
        const int bits = is_input && options_.input_bits ? options_.input_bits : options_.bits;
        creating_->push_back(calibrated_quantizer(values, bits, is_input));
      }
    }
    FHENN_CHECK(static_cast<size_t>(index) < quantizers_.size(),
                "the quantization-aware network is not calibrated: calibrate it on training data first");
    const ActivationQuantizer& q = quantizers_[static_cast<size_t>(index)];
    compiler::GraphNode quant = compiler::graph_node(name, "Quant", {source});
    quant.quantizer = q.exported();
    emit(std::move(quant));
    return {q.integers(values), q.scale(), {}, {}, index, name};
  }

  Value activation(const Layer& layer, const Value& h, std::optional<int> shared) {
    emit(GraphNet::layer_node(layer, h.tensor));
    return point(apply_activation(layer.spec, h.values()), layer.name, layer.name + ".quant", shared, false);
  }

  // Conv or linear: integer weights on the weight quantizer's grid, an integer accumulator, the float bias.
  Value weighted(const Layer& layer, const Value& in) {
    // Signed narrow (Brevitas's weight quantizers); its scale is set below.
    quant::UniformQuantizer grid{.bits = options_.weight_bits ? options_.weight_bits : options_.bits,
                                 .is_signed = true,
                                 .narrow_range = true,
                                 .scale = 1.0,
                                 .zero_point = 0};
    const torch::Tensor w = layer.weight.to(torch::kFloat64);
    const bool per_channel = options_.weight_scaling == WeightScaling::per_channel;
    const torch::Tensor magnitude = per_channel ? std::get<0>(w.abs().flatten(1).max(1)) : w.abs().max();
    const torch::Tensor scale = magnitude.clamp_min(kMinWeightMagnitude) / static_cast<double>(grid.qmax());
    std::vector<int64_t> row_shape(static_cast<size_t>(w.dim()), 1);
    row_shape[0] = w.size(0);
    const torch::Tensor w_int = quantize_integers(w, per_channel ? scale.reshape(row_shape) : scale, grid.qmin(),
                                                  grid.qmax(), ClampGradient::straight_through);
    const LayerSpec& s = layer.spec;
    const torch::Tensor ints = s.op == "conv" ? torch::conv2d(in.ints, w_int, {}, s.stride, s.padding, 1, s.groups)
                                              : torch::linear(in.ints, w_int);
    if (graph_) {
      compiler::GraphNode node = GraphNet::layer_node(layer, in.tensor);
      const torch::Tensor scales = scale.detach().reshape({-1}).contiguous();
      const std::vector<double> values(scales.data_ptr<double>(), scales.data_ptr<double>() + scales.numel());
      grid.scale = values[0];
      node.quantizer = grid;
      if (per_channel) node.tensors["weight_scales"] = values;
      emit(std::move(node));
    }
    return accumulator(ints, in.scale, scale, layer.bias.to(torch::kFloat64), layer.name);
  }

  // The integer sum of each window; its scale divides by the window's size (the compiler's AveragePool).
  Value average_pool(const Layer& layer, const Value& in) {
    const int64_t k = layer.spec.kernel;
    const torch::Tensor sums = torch::avg_pool2d(in.ints, k, layer.spec.stride, 0, false, true, /*divisor=*/1);
    emit(GraphNet::layer_node(layer, in.tensor));
    return accumulator(sums, in.scale, scalar(1.0 / static_cast<double>(k * k)),
                       torch::zeros({in.ints.size(1)}, torch::kFloat64), layer.name);
  }

  // x + body(x) with both on x's quantizer: an integer sum of x's scale.
  Value residual(const Layer& layer, Value h) {
    const Value x = quantized(std::move(h));
    Value body = layers(layer.body, x, x.quantizer);
    if (body.quantizer != x.quantizer) {
      body = point(body.values(), body.tensor, body.tensor + ".quant", x.quantizer, false);
    }
    emit(compiler::graph_node(layer.name, "Add", {x.tensor, body.tensor}));
    return accumulator(x.ints + body.ints, x.scale, scalar(1.0), torch::zeros({x.ints.size(1)}, torch::kFloat64),
                       layer.name);
  }

  void emit(compiler::GraphNode node) {
    if (graph_) graph_->nodes.push_back(std::move(node));
  }

  const QatGraphOptions& options_;
  const std::vector<ActivationQuantizer>& quantizers_;
  std::vector<ActivationQuantizer>* creating_;
  compiler::ModelGraph* graph_;
  size_t next_ = 0;
};

void check_options(const QatGraphOptions& options) {
  FHENN_CHECK(options.bits >= 2 && options.bits <= 16, "--bits ", options.bits, " is not in [2, 16]");
  for (int bits : {options.weight_bits, options.input_bits}) {
    FHENN_CHECK(bits == 0 || (bits >= 2 && bits <= 16), "weight and input bits must be 2..16 (0: --bits), got ", bits);
  }
}

}  // namespace

WeightScaling parse_weight_scaling(std::string_view text) {
  if (text == "per-tensor") return WeightScaling::per_tensor;
  if (text == "per-channel") return WeightScaling::per_channel;
  fail("weight scales '", text, "' unknown: give per-tensor or per-channel");
}

std::string to_string(WeightScaling scaling) {
  return scaling == WeightScaling::per_channel ? "per-channel" : "per-tensor";
}

QatGraphNet::QatGraphNet(GraphNet net, QatGraphOptions options) : net_(std::move(net)), options_(options) {
  check_options(options_);
}

void QatGraphNet::calibrate(const Matrix& features, size_t max_samples) {
  FHENN_CHECK(features.rows > 0, "cannot calibrate the quantizers on an empty data set");
  const size_t width = input_features(net_.architecture());
  FHENN_CHECK(features.cols == width, "calibration data has ", features.cols, " features, the network expects ", width);
  const torch::Tensor x =
      to_float64_tensor(features).narrow(0, 0, static_cast<int64_t>(std::min(max_samples, features.rows)));
  torch::NoGradGuard no_grad;
  quantizers_.clear();
  QatPass pass(options_, quantizers_, &quantizers_, nullptr);
  pass.layers(net_.layers(), pass.input(net_.shaped_input(x)), std::nullopt);
}

QatGraphOutputs QatGraphNet::run(const torch::Tensor& x) const {
  FHENN_CHECK(calibrated(), "the quantization-aware network is not calibrated: calibrate it on training data first");
  QatPass pass(options_, quantizers_, nullptr, nullptr);
  const Value out = pass.layers(net_.layers(), pass.input(net_.shaped_input(x.to(torch::kFloat64))), std::nullopt);
  return {out.values(), out.ints};
}

torch::Tensor QatGraphNet::forward(const torch::Tensor& x) const {
  return run(x).logits;
}

std::vector<torch::Tensor> QatGraphNet::parameters() const {
  std::vector<torch::Tensor> all = net_.parameters();
  for (const ActivationQuantizer& q : quantizers_) {
    for (const torch::Tensor& p : q.parameters()) all.push_back(p);
  }
  return all;
}

std::vector<quant::UniformQuantizer> QatGraphNet::quantizers() const {
  std::vector<quant::UniformQuantizer> all;
  for (const ActivationQuantizer& q : quantizers_) all.push_back(q.exported());
  return all;
}

compiler::ModelGraph QatGraphNet::to_model_graph() const {
  FHENN_CHECK(calibrated(), "the quantization-aware network is not calibrated: calibrate it on training data first");
  compiler::ModelGraph graph;
  graph.inputs.push_back({"input", net_.architecture().input});
  const size_t width = input_features(net_.architecture());
  torch::NoGradGuard no_grad;
  QatPass pass(options_, quantizers_, nullptr, &graph);
  const torch::Tensor zeros = torch::zeros({1, static_cast<int64_t>(width)}, torch::kFloat64);
  graph.outputs = {pass.layers(net_.layers(), pass.input(net_.shaped_input(zeros)), std::nullopt).tensor};
  return graph;
}

TrainedQatGraphNet train_qat_graph_net(const Architecture& architecture, const LabelledSet& train,
                                       const TrainOptions& options, const QatGraphOptions& qat,
                                       const std::optional<ChannelPruning>& pruning) {
  FHENN_CHECK(train.features.cols == input_features(architecture), "the architecture takes ",
              input_features(architecture), " input features but the data has ", train.features.cols);
  TrainedQatGraphNet trained{QatGraphNet(GraphNet(architecture, options.seed), qat), {}};
  QatGraphNet& net = trained.net;
  net.calibrate(train.features);
  const auto forward = [&net](const torch::Tensor& x) { return net.forward(x); };
  trained.training = train_classifier(net.parameters(), forward, train, options);
  if (!pruning) return trained;
  const PrunedChannels pruned = prune_and_fine_tune(net.net(), net.parameters(), forward, train, options, *pruning);
  trained.training.final_loss = pruned.training.final_loss;
  trained.training.train_accuracy = pruned.training.train_accuracy;
  trained.training.seconds += pruned.training.seconds;
  trained.channels_removed = pruned.removed;
  trained.channels_prunable = pruned.total;
  return trained;
}

}  // namespace fhenn::nn
