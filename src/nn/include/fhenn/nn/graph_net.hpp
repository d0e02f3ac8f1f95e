// Convolutional and other feed-forward networks described by a small JSON architecture: trained with LibTorch,
// exported to the compiler's model graph (compiler/graph.hpp).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fhenn/compiler/graph.hpp"
#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/random.hpp"
#include "fhenn/nn/training.hpp"

namespace fhenn::nn {

// One layer of an architecture, by "op":
//   conv        out_channels, kernel, stride (1), padding (0), groups (1)    a 2-D convolution with a bias
//   linear      out_features                                                 a fully connected layer with a bias
//   avgpool, maxpool   kernel, stride (= kernel)
//   flatten     (C, H, W) -> (C H W)
//   relu, leaky_relu (alpha, 0.01), sigmoid, tanh, gelu, silu, hardswish, softplus, identity
//   residual    layers                                                       x + layers(x) (a skip connection):
//                                                                            the layers keep x's shape
struct LayerSpec {
  std::string op;
  int size = 0;  // out_channels or out_features
  int kernel = 0;
  int stride = 0;
  int padding = 0;
  int groups = 1;
  double alpha = 0.01;
  std::vector<LayerSpec> body;  // residual: the layers its input goes through before it is added back
};

// {"input": [C, H, W] or [F], "layers": [{"op": "conv", "out_channels": 8, "kernel": 3, "padding": 1}, ...]}
struct Architecture {
  std::vector<size_t> input;
  std::vector<LayerSpec> layers;
};

// Parses and checks an architecture: every op known, every field of its op and no other, the shapes consistent
// (a linear layer reads a flat tensor, a kernel fits its padded input). Throws fhenn::Error naming `what` (the
// file), the layer, the field and the fix.
Architecture parse_architecture(const std::string& json_text, const std::string& what);
Architecture read_architecture(const std::filesystem::path& path);
// The number of scores a (checked) architecture gives, and of features it reads.
size_t output_features(const Architecture& architecture);
size_t input_features(const Architecture& architecture);

// Structured pruning: per conv or linear layer (the last excepted), a 0/1 keep mask over its output channels
// (neurons), in layer order.
struct ChannelMasks {
  std::vector<torch::Tensor> keep;  // [out_channels] float32
  size_t removed = 0, total = 0;    // channels, over all pruned layers
};

// The network of an architecture with its weights, initialised as torch does (uniform in +-1/sqrt(fan_in)) from
// fhenn's portable generator: a seed gives the same network on every machine.
class GraphNet {
 public:
  // A layer with its name in the model graph, its shapes (without the batch) and, for conv and linear, its weights.
  struct Layer {
    LayerSpec spec;
    std::string name;
    std::vector<size_t> in, out;
    torch::Tensor weight, bias;  // conv and linear (float32)
    std::vector<Layer> body;     // residual
  };

  GraphNet(Architecture architecture, uint64_t seed);

  // A batch [N, features] shaped as the architecture's input: [N, C, H, W] or [N, F].
  torch::Tensor shaped_input(const torch::Tensor& x) const;

  // Scores of a batch [N, features] (features in the input's row-major order).
  torch::Tensor forward(const torch::Tensor& x) const;
  std::vector<torch::Tensor> parameters() const;
  // Masks removing, in every conv and linear layer but the last, floor(fraction * out) of its output channels
  // (neurons): those whose weights have the smallest L2 norm (ties: the later one goes). A removed channel's
  // weights and bias are zero, so its lookups read no ciphertext and fold to constants: no bootstrap. Throws
  // fhenn::Error unless 0 < fraction < 1.
  ChannelMasks channel_masks(double fraction) const;
  // Zeroes the masked channels' weights and biases in place (no autograd).
  void apply(const ChannelMasks& masks) const;
  // The trained network as a model graph: input "input", layers named conv1, fc1, relu1, pool1, flatten1, ...
  // (ONNX op names and attributes), a residual block's layers then its Add (add1, ...), the last layer's tensor
  // the output.
  compiler::ModelGraph to_model_graph() const;
  const Architecture& architecture() const { return architecture_; }
  const std::vector<Layer>& layers() const { return layers_; }
  // The model-graph node of a layer other than a residual block, reading tensor `input`: its ONNX op, attributes,
  // and weights as float64.
  static compiler::GraphNode layer_node(const Layer& layer, const std::string& input);

 private:
  static std::vector<Layer> build(const std::vector<LayerSpec>& specs, std::vector<size_t> shape,
                                  std::map<std::string, int>& counts, SplitMix64& rng);
  static torch::Tensor apply(const std::vector<Layer>& layers, torch::Tensor h);
  static void collect_parameters(const std::vector<Layer>& layers, std::vector<torch::Tensor>& all);
  // The conv and linear layers, in order (residual blocks' included).
  static void collect_weighted(const std::vector<Layer>& layers, std::vector<const Layer*>& all);
  // Appends the layers' nodes reading tensor `current`; returns the last one's tensor.
  static std::string emit(const std::vector<Layer>& layers, std::string current, compiler::ModelGraph& graph);

  Architecture architecture_;
  std::vector<Layer> layers_;
};

// An activation layer's function (spec.op one of the activations above), on a tensor of any dtype.
torch::Tensor apply_activation(const LayerSpec& spec, const torch::Tensor& x);
bool is_activation(const std::string& op);

// Structured pruning after training: remove `fraction` of the channels (GraphNet::channel_masks), then train
// `fine_tune_epochs` more with them held at zero.
struct ChannelPruning {
  double fraction = 0.5;
  int fine_tune_epochs = 1;
};

// What structured pruning removed (channels and neurons, over all pruned layers), and the fine-tuning's result.
struct PrunedChannels {
  TrainResult training;
  size_t removed = 0, total = 0;
};

// Removes pruning.fraction of `net`'s channels (GraphNet::channel_masks), then trains `parameters` (the net's, and
// any others forward uses) for pruning.fine_tune_epochs with the removed channels held at zero.
PrunedChannels prune_and_fine_tune(const GraphNet& net, const std::vector<torch::Tensor>& parameters,
                                   const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                   const LabelledSet& train, const TrainOptions& options,
                                   const ChannelPruning& pruning);

struct TrainedGraphNet {
  GraphNet net;
  TrainResult training;  // the fine-tuning's loss when pruned; seconds of both
  size_t channels_removed = 0, channels_prunable = 0;
};

// Trains a network of `architecture` on `train` (cross-entropy, AdamW: train_classifier); options.seed seeds the
// initial weights and the shuffling. With `pruning`, then prunes its channels and fine-tunes.
TrainedGraphNet train_graph_net(const Architecture& architecture, const LabelledSet& train, const TrainOptions& options,
                                const std::optional<ChannelPruning>& pruning = std::nullopt);

}  // namespace fhenn::nn
