// Architectures from JSON, the networks they describe (LibTorch), their training and export (see graph_net.hpp).
#include "fhenn/nn/graph_net.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/nn/random.hpp"

namespace fhenn::nn {
namespace {

constexpr uint64_t kInitStream = 5;
constexpr int64_t kMaxDimension = 4096;
constexpr int64_t kMaxKernel = 64;
constexpr size_t kMaxLayers = 256;
constexpr size_t kMaxArchitectureBytes = 1 << 20;
constexpr int kMaxResidualDepth = 8;                    // residual blocks inside residual blocks
constexpr uint64_t kMaxParameters = uint64_t{1} << 27;  // weights and biases: 512 MB of float32

// The activations: the model graph's op for each, and its torch function (alpha: LeakyRelu's slope).
struct ActivationOp {
  const char* name;
  const char* graph_op;
  torch::Tensor (*apply)(const torch::Tensor& x, double alpha);
};

const std::vector<ActivationOp>& activation_ops() {
  static const std::vector<ActivationOp> ops = {
      {"relu", "Relu", [](const torch::Tensor& x, double) { return torch::relu(x); }},
      {"leaky_relu", "LeakyRelu", [](const torch::Tensor& x, double alpha) { return torch::leaky_relu(x, alpha); }},
      {"sigmoid", "Sigmoid", [](const torch::Tensor& x, double) { return torch::sigmoid(x); }},
      {"tanh", "Tanh", [](const torch::Tensor& x, double) { return torch::tanh(x); }},
      {"gelu", "Gelu", [](const torch::Tensor& x, double) { return torch::gelu(x); }},
      {"silu", "Silu", [](const torch::Tensor& x, double) { return torch::silu(x); }},
      {"hardswish", "HardSwish", [](const torch::Tensor& x, double) { return torch::hardswish(x); }},
      {"softplus", "Softplus", [](const torch::Tensor& x, double) { return torch::softplus(x); }},
      {"identity", "Identity", [](const torch::Tensor& x, double) { return x; }},
  };
  return ops;
}

// The activation named `op`, or nullptr.
const ActivationOp* find_activation(const std::string& op) {
  for (const ActivationOp& a : activation_ops()) {
    if (op == a.name) return &a;
  }
  return nullptr;
}

// The ops of an architecture and their fields: the layers with weights or windows, then the activations.
const std::map<std::string, std::set<std::string>>& op_fields() {
  static const std::map<std::string, std::set<std::string>> fields = [] {
    std::map<std::string, std::set<std::string>> all = {
        {"conv", {"out_channels", "kernel", "stride", "padding", "groups"}},
        {"linear", {"out_features"}},
        {"avgpool", {"kernel", "stride"}},
        {"maxpool", {"kernel", "stride"}},
        {"flatten", {}},
        {"residual", {"layers"}},
    };
    for (const ActivationOp& a : activation_ops())
      all[a.name] = std::string(a.name) == "leaky_relu" ? std::set<std::string>{"alpha"} : std::set<std::string>{};
    return all;
  }();
  return fields;
}

std::string known_ops() {
  std::string names;
  for (const auto& [op, fields] : op_fields()) names += (names.empty() ? "" : ", ") + op;
  return names;
}

// Field `key` of `layer` as an integer in [low, high], or `fallback` when absent.
int int_field(const nlohmann::json& layer, const std::string& key, int64_t low, int64_t high, int fallback,
              const std::string& where) {
  if (!layer.contains(key)) {
    FHENN_CHECK(fallback >= 0, where, ": give \"", key, "\"");
    return fallback;
  }
  const nlohmann::json& v = layer.at(key);
  FHENN_CHECK(v.is_number_integer() && v.get<int64_t>() >= low && v.get<int64_t>() <= high, where, ": \"", key,
              "\" is ", v.dump(), "; it must be an integer in ", low, "..", high);
  return static_cast<int>(v.get<int64_t>());
}

std::string shape_text(const std::vector<size_t>& shape) {
  std::string text = "(";
  for (size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  return text + ")";
}

std::vector<size_t> output_shape(const LayerSpec& spec, const std::vector<size_t>& in, const std::string& where);

// The shape `specs` turn `in` into, each layer checked (where: "<where>: layer k (op)").
std::vector<size_t> layers_shape(const std::vector<LayerSpec>& specs, std::vector<size_t> shape,
                                 const std::string& where) {
  for (size_t k = 0; k < specs.size(); ++k) {
    shape = output_shape(specs[k], shape, where + "layer " + std::to_string(k + 1) + " (" + specs[k].op + ")");
    FHENN_CHECK(shape.size() == 1 || shape[0] * shape[1] * shape[2] <= (size_t{1} << 24), where, "layer ", k + 1,
                ": its output ", shape_text(shape), " is too large");
  }
  return shape;
}

// The output shape of `spec` on `in`; throws fhenn::Error naming `where` and the fix.
std::vector<size_t> output_shape(const LayerSpec& spec, const std::vector<size_t>& in, const std::string& where) {
  const bool image = in.size() == 3;
  if (spec.op == "residual") {
    const std::vector<size_t> out = layers_shape(spec.body, in, where + ": ");
    FHENN_CHECK(out == in, where, ": its layers turn ", shape_text(in), " into ", shape_text(out),
                "; a residual block adds its input back, so its layers must keep the shape (as many output ",
                "channels as input ones, stride 1, padding (kernel - 1) / 2)");
    return in;
  }
  if (spec.op == "linear") {
    FHENN_CHECK(!image, where, " reads a tensor of shape ", shape_text(in), ": add {\"op\": \"flatten\"} before it");
    return {static_cast<size_t>(spec.size)};
  }
  if (spec.op == "flatten") {
    FHENN_CHECK(image, where, " reads a flat tensor ", shape_text(in), ": remove it");
    return {in[0] * in[1] * in[2]};
  }
  if (spec.op == "conv" || spec.op == "avgpool" || spec.op == "maxpool") {
    FHENN_CHECK(image, where, " reads a flat tensor ", shape_text(in), ": it needs an image (C, H, W)");
    const auto k = static_cast<size_t>(spec.kernel), s = static_cast<size_t>(spec.stride);
    const size_t p = static_cast<size_t>(spec.padding);
    FHENN_CHECK(in[1] + 2 * p >= k && in[2] + 2 * p >= k, where, ": its ", k, " x ", k, " kernel is larger than its ",
                shape_text(in), " input", p ? " with its padding" : "", ": use a smaller kernel or more padding");
    size_t channels = in[0];
    if (spec.op == "conv") {
      const auto g = static_cast<size_t>(spec.groups);
      FHENN_CHECK(in[0] % g == 0 && static_cast<size_t>(spec.size) % g == 0, where, ": groups ", g, " must divide its ",
                  in[0], " input and ", spec.size, " output channels");
      channels = static_cast<size_t>(spec.size);
    }
    return {channels, (in[1] + 2 * p - k) / s + 1, (in[2] + 2 * p - k) / s + 1};
  }
  return in;  // activations
}

// The weights and biases of `specs` on input `shape` (a checked architecture), saturating at kMaxParameters + 1.
uint64_t parameter_count(const std::vector<LayerSpec>& specs, std::vector<size_t> shape) {
  uint64_t count = 0;
  for (const LayerSpec& spec : specs) {
    const auto size = static_cast<uint64_t>(spec.size);
    if (spec.op == "conv") {
      const auto k = static_cast<uint64_t>(spec.kernel);
      count += size * (shape[0] / static_cast<uint64_t>(spec.groups)) * k * k + size;
    } else if (spec.op == "linear") {
      count += size * shape[0] + size;
    } else if (spec.op == "residual") {
      count += parameter_count(spec.body, shape);
    }
    if (count > kMaxParameters) return kMaxParameters + 1;
    shape = output_shape(spec, shape, spec.op);
  }
  return count;
}

LayerSpec parse_layer(const nlohmann::json& layer, const std::string& where, int depth);

// The layers of a "layers" list (the architecture's, or a residual block's).
std::vector<LayerSpec> parse_layers(const nlohmann::json& layers, const std::string& where, int depth) {
  FHENN_CHECK(layers.is_array() && !layers.empty() && layers.size() <= kMaxLayers, where,
              "\"layers\" must be a list of 1..", kMaxLayers, " layers");
  std::vector<LayerSpec> specs;
  for (size_t k = 0; k < layers.size(); ++k) {
    specs.push_back(parse_layer(layers[k], where + "layer " + std::to_string(k + 1), depth));
  }
  return specs;
}

LayerSpec parse_layer(const nlohmann::json& layer, const std::string& where, int depth) {
  FHENN_CHECK(layer.is_object() && layer.contains("op") && layer.at("op").is_string(), where,
              ": give an object with an \"op\" (", known_ops(), ")");
  LayerSpec spec;
  spec.op = layer.at("op").get<std::string>();
  const auto fields = op_fields().find(spec.op);
  FHENN_CHECK(fields != op_fields().end(), where, ": unknown op \"", spec.op, "\"; the ops are ", known_ops());
  for (const auto& [key, value] : layer.items()) {
    FHENN_CHECK(key == "op" || fields->second.count(key) == 1, where, " (", spec.op, "): unknown field \"", key, "\"");
  }
  if (spec.op == "conv") spec.size = int_field(layer, "out_channels", 1, kMaxDimension, -1, where);
  if (spec.op == "linear") spec.size = int_field(layer, "out_features", 1, kMaxDimension, -1, where);
  if (fields->second.count("kernel")) {
    spec.kernel = int_field(layer, "kernel", 1, kMaxKernel, -1, where);
    const bool pool = spec.op != "conv";
    spec.stride = int_field(layer, "stride", 1, kMaxKernel, pool ? spec.kernel : 1, where);
  }
  if (spec.op == "conv") {
    spec.padding = int_field(layer, "padding", 0, kMaxKernel, 0, where);
    spec.groups = int_field(layer, "groups", 1, kMaxDimension, 1, where);
  }
  if (spec.op == "residual") {
    FHENN_CHECK(depth < kMaxResidualDepth, where, ": residual blocks nest at most ", kMaxResidualDepth, " deep");
    FHENN_CHECK(layer.contains("layers"), where, " (residual): give \"layers\": [...], the block's layers");
    spec.body = parse_layers(layer.at("layers"), where + " (residual): ", depth + 1);
  }
  if (layer.contains("alpha")) {
    FHENN_CHECK(layer.at("alpha").is_number() && std::isfinite(layer.at("alpha").get<double>()), where,
                ": \"alpha\" must be a finite number");
    spec.alpha = layer.at("alpha").get<double>();
  }
  return spec;
}

// The layer names: conv1, fc1, pool1, flatten1, relu1, ... counted per kind.
std::string layer_name(const std::string& op, std::map<std::string, int>& counts) {
  const std::string kind = op == "linear" ? "fc" : (op == "avgpool" || op == "maxpool") ? "pool" : op;
  return kind + std::to_string(++counts[kind]);
}

torch::Tensor parameter(std::vector<int64_t> shape, double bound, SplitMix64& rng) {
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  fill_uniform(t, bound, rng);
  return t.set_requires_grad(true);
}

}  // namespace

Architecture parse_architecture(const std::string& json_text, const std::string& what) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    fail(what, " is not valid JSON: ", e.what());
  }
  FHENN_CHECK(root.is_object() && root.contains("input") && root.contains("layers"), what,
              ": give {\"input\": [C, H, W] or [F], \"layers\": [...]}");
  const nlohmann::json& input = root.at("input");
  FHENN_CHECK(input.is_array() && (input.size() == 1 || input.size() == 3), what,
              ": \"input\" must be [features] or [channels, height, width]");
  Architecture architecture;
  for (const nlohmann::json& d : input) {
    FHENN_CHECK(d.is_number_integer() && d.get<int64_t>() >= 1 && d.get<int64_t>() <= kMaxDimension, what,
                ": \"input\" has the dimension ", d.dump(), "; each must be an integer in 1..", kMaxDimension);
    architecture.input.push_back(d.get<size_t>());
  }
  architecture.layers = parse_layers(root.at("layers"), what + ": ", 0);
  const std::vector<size_t> shape = layers_shape(architecture.layers, architecture.input, what + ": ");
  FHENN_CHECK(parameter_count(architecture.layers, architecture.input) <= kMaxParameters, what,
              ": the network would have more than ", kMaxParameters, " weights; use fewer or smaller layers");
  FHENN_CHECK(shape.size() == 1, what, ": the last layer gives a tensor of shape ", shape_text(shape),
              "; end with {\"op\": \"flatten\"} and a linear layer that gives one score per class");
  return architecture;
}

Architecture read_architecture(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, "architecture", kMaxArchitectureBytes);
  return parse_architecture(std::string(bytes.begin(), bytes.end()), "architecture '" + path.string() + "'");
}

size_t output_features(const Architecture& architecture) {
  const std::vector<size_t> shape = layers_shape(architecture.layers, architecture.input, "");
  return shape.size() == 1 ? shape[0] : shape[0] * shape[1] * shape[2];
}

GraphNet::GraphNet(Architecture architecture, uint64_t seed) : architecture_(std::move(architecture)) {
  SplitMix64 rng(derive_seed(seed, kInitStream));
  std::map<std::string, int> counts;
  torch::NoGradGuard no_grad;
  layers_ = build(architecture_.layers, architecture_.input, counts, rng);
}

std::vector<GraphNet::Layer> GraphNet::build(const std::vector<LayerSpec>& specs, std::vector<size_t> shape,
                                             std::map<std::string, int>& counts, SplitMix64& rng) {
  std::vector<Layer> layers;
  for (const LayerSpec& spec : specs) {
    Layer layer{spec, "", shape, output_shape(spec, shape, spec.op), {}, {}, {}};
    if (spec.op == "residual") layer.body = build(spec.body, shape, counts, rng);  // its layers first, then add
    layer.name = layer_name(spec.op == "residual" ? "add" : spec.op, counts);
    if (spec.op == "conv") {
      const int64_t per_group = static_cast<int64_t>(shape[0]) / spec.groups;
      const double bound = 1.0 / std::sqrt(static_cast<double>(per_group * spec.kernel * spec.kernel));
      layer.weight = parameter({spec.size, per_group, spec.kernel, spec.kernel}, bound, rng);
      layer.bias = parameter({spec.size}, bound, rng);
    } else if (spec.op == "linear") {
      const double bound = 1.0 / std::sqrt(static_cast<double>(shape[0]));
      layer.weight = parameter({spec.size, static_cast<int64_t>(shape[0])}, bound, rng);
      layer.bias = parameter({spec.size}, bound, rng);
    }
    shape = layer.out;
    layers.push_back(std::move(layer));
  }
  return layers;
}

torch::Tensor GraphNet::shaped_input(const torch::Tensor& x) const {
  const auto& in = architecture_.input;
  return in.size() == 3 ? x.reshape({x.size(0), static_cast<int64_t>(in[0]), static_cast<int64_t>(in[1]),
                                     static_cast<int64_t>(in[2])})
                        : x;
}

torch::Tensor GraphNet::forward(const torch::Tensor& x) const {
  return apply(layers_, shaped_input(x));
}

torch::Tensor apply_activation(const LayerSpec& spec, const torch::Tensor& x) {
  const ActivationOp* activation = find_activation(spec.op);
  FHENN_CHECK(activation != nullptr, "'", spec.op, "' is not an activation");
  return activation->apply(x, spec.alpha);
}

bool is_activation(const std::string& op) {
  return find_activation(op) != nullptr;
}

torch::Tensor GraphNet::apply(const std::vector<Layer>& layers, torch::Tensor h) {
  for (const Layer& layer : layers) {
    const LayerSpec& s = layer.spec;
    if (s.op == "residual") {
      h = h + apply(layer.body, h);
    } else if (s.op == "conv") {
      h = torch::conv2d(h, layer.weight, layer.bias, s.stride, s.padding, 1, s.groups);
    } else if (s.op == "linear") {
      h = torch::linear(h, layer.weight, layer.bias);
    } else if (s.op == "avgpool") {
      h = torch::avg_pool2d(h, s.kernel, s.stride);
    } else if (s.op == "maxpool") {
      h = torch::max_pool2d(h, s.kernel, s.stride);
    } else if (s.op == "flatten") {
      h = h.flatten(1);
    } else {
      h = apply_activation(s, h);
    }
  }
  return h;
}

std::vector<torch::Tensor> GraphNet::parameters() const {
  std::vector<torch::Tensor> all;
  collect_parameters(layers_, all);
  return all;
}

void GraphNet::collect_parameters(const std::vector<Layer>& layers, std::vector<torch::Tensor>& all) {
  for (const Layer& layer : layers) {
    collect_parameters(layer.body, all);
    if (!layer.weight.defined()) continue;
    all.push_back(layer.weight);
    all.push_back(layer.bias);
  }
}

void GraphNet::collect_weighted(const std::vector<Layer>& layers, std::vector<const Layer*>& all) {
  for (const Layer& layer : layers) {
    collect_weighted(layer.body, all);
    if (layer.weight.defined()) all.push_back(&layer);
  }
}

ChannelMasks GraphNet::channel_masks(double fraction) const {
  FHENN_CHECK(fraction > 0.0 && fraction < 1.0, "the fraction of channels to prune is ", fraction,
              ": give a number between 0 and 1");
  std::vector<const Layer*> weighted;
  collect_weighted(layers_, weighted);
  weighted.pop_back();  // the output layer keeps every score
  ChannelMasks masks;
  torch::NoGradGuard no_grad;
  for (const Layer* layer : weighted) {
    const torch::Tensor norms = layer->weight.reshape({layer->weight.size(0), -1}).norm(2, 1).contiguous();
    const auto out = static_cast<size_t>(norms.size(0));
    const auto removed = static_cast<size_t>(std::floor(fraction * static_cast<double>(out)));
    std::vector<size_t> order(out);
    std::iota(order.begin(), order.end(), 0);
    const float* norm = norms.data_ptr<float>();
    // Smallest norm first; of equal norms, the later channel first (it goes).
    std::sort(order.begin(), order.end(),
              [norm](size_t a, size_t b) { return norm[a] < norm[b] || (norm[a] == norm[b] && a > b); });
    torch::Tensor keep = torch::ones({static_cast<int64_t>(out)}, torch::kFloat32);
    for (size_t k = 0; k < removed; ++k) keep[static_cast<int64_t>(order[k])] = 0.0F;
    masks.keep.push_back(keep);
    masks.removed += removed;
    masks.total += out;
  }
  return masks;
}

void GraphNet::apply(const ChannelMasks& masks) const {
  std::vector<const Layer*> weighted;
  collect_weighted(layers_, weighted);
  FHENN_CHECK(masks.keep.size() + 1 == weighted.size(), "channel masks for ", masks.keep.size(),
              " layers; the network prunes ", weighted.size() - 1);
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < masks.keep.size(); ++k) {
    const torch::Tensor& weight = weighted[k]->weight;
    std::vector<int64_t> shape(static_cast<size_t>(weight.dim()), 1);
    shape[0] = weight.size(0);
    weight.mul_(masks.keep[k].reshape(shape));
    weighted[k]->bias.mul_(masks.keep[k]);
  }
}

compiler::ModelGraph GraphNet::to_model_graph() const {
  compiler::ModelGraph graph;
  graph.inputs.push_back({"input", architecture_.input});
  graph.outputs = {emit(layers_, "input", graph)};
  return graph;
}

compiler::GraphNode GraphNet::layer_node(const Layer& layer, const std::string& input) {
  const LayerSpec& s = layer.spec;
  compiler::GraphNode node = compiler::graph_node(layer.name, "", {input});
  const std::vector<int64_t> window = {s.kernel, s.kernel}, strides = {s.stride, s.stride};
  if (s.op == "conv") {
    node.op = "Conv";
    node.ints = {{"kernel_shape", window},
                 {"strides", strides},
                 {"pads", {s.padding, s.padding, s.padding, s.padding}},
                 {"group", {s.groups}}};
  } else if (s.op == "linear") {
    node.op = "Gemm";
  } else if (s.op == "avgpool" || s.op == "maxpool") {
    node.op = s.op == "avgpool" ? "AveragePool" : "MaxPool";
    node.ints = {{"kernel_shape", window}, {"strides", strides}};
  } else if (s.op == "flatten") {
    node.op = "Flatten";
  } else {
    node.op = find_activation(s.op)->graph_op;
    if (s.op == "leaky_relu") node.floats["alpha"] = s.alpha;
  }
  if (layer.weight.defined()) {
    node.weight = to_doubles(layer.weight);
    node.bias = to_doubles(layer.bias);
  }
  return node;
}

std::string GraphNet::emit(const std::vector<Layer>& layers, std::string current, compiler::ModelGraph& graph) {
  for (const Layer& layer : layers) {
    if (layer.spec.op == "residual") {
      const std::string body = emit(layer.body, current, graph);
      graph.nodes.push_back(compiler::graph_node(layer.name, "Add", {current, body}));
    } else {
      graph.nodes.push_back(layer_node(layer, current));
    }
    current = layer.name;
  }
  return current;
}

size_t input_features(const Architecture& architecture) {
  size_t features = 1;
  for (size_t d : architecture.input) features *= d;
  return features;
}

PrunedChannels prune_and_fine_tune(const GraphNet& net, const std::vector<torch::Tensor>& parameters,
                                   const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                   const LabelledSet& train, const TrainOptions& options,
                                   const ChannelPruning& pruning) {
  FHENN_CHECK(pruning.fine_tune_epochs >= 1, "fine-tuning after pruning needs at least one epoch, got ",
              pruning.fine_tune_epochs);
  const ChannelMasks masks = net.channel_masks(pruning.fraction);
  net.apply(masks);
  TrainOptions fine_tune = options;
  fine_tune.epochs = pruning.fine_tune_epochs;
  fine_tune.label = options.label + " (fine-tuning, pruned)";
  PrunedChannels pruned{train_classifier(parameters, forward, train, fine_tune, [&] { net.apply(masks); }),
                        masks.removed, masks.total};
  net.apply(masks);  // permanent: the exported weights hold exact zeros
  return pruned;
}

TrainedGraphNet train_graph_net(const Architecture& architecture, const LabelledSet& train, const TrainOptions& options,
                                const std::optional<ChannelPruning>& pruning) {
  FHENN_CHECK(train.features.cols == input_features(architecture), "the architecture takes ",
              input_features(architecture), " input features ", shape_text(architecture.input), " but the data has ",
              train.features.cols);
  TrainedGraphNet trained{GraphNet(architecture, options.seed), {}};
  const GraphNet& net = trained.net;
  const auto forward = [&net](const torch::Tensor& x) { return net.forward(x); };
  trained.training = train_classifier(net.parameters(), forward, train, options);
  if (!pruning) return trained;
  const double first_seconds = trained.training.seconds;
  const PrunedChannels pruned = prune_and_fine_tune(net, net.parameters(), forward, train, options, *pruning);
  trained.training = pruned.training;
  trained.training.seconds += first_seconds;
  trained.channels_removed = pruned.removed;
  trained.channels_prunable = pruned.total;
  return trained;
}

}  // namespace fhenn::nn
