// Quantization-aware training of the networks of graph_net.hpp (conv, linear, pools, residual blocks, any
// activation): Brevitas-style quantizers wherever the circuit quantizes, a forward pass that computes the circuit's
// integers, and the export to a model graph with Quant nodes and trained weight quantizers.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/nn/graph_net.hpp"
#include "fhenn/nn/qat_layers.hpp"

namespace fhenn::nn {

// The weight quantizer's scale (Brevitas Int8WeightPerTensorFloat / Int8WeightPerChannelFloat at `weight_bits`):
// the weights' largest magnitude over qmax, of the whole layer or of each output channel, recomputed at every step.
enum class WeightScaling { per_tensor, per_channel };
WeightScaling parse_weight_scaling(std::string_view text);  // "per-tensor" | "per-channel", else fhenn::Error
std::string to_string(WeightScaling scaling);

struct QatGraphOptions {
  int bits = 4;         // every activation quantizer
  int weight_bits = 0;  // 0: `bits`
  int input_bits = 0;   // 0: `bits`
  WeightScaling weight_scaling = WeightScaling::per_tensor;
};

struct QatGraphOutputs {
  torch::Tensor logits;           // float64 [batch, scores]: what the client decodes
  torch::Tensor output_integers;  // float64 holding integers: the circuit's outputs
};

// A GraphNet with quantizers in the loop. The circuit quantizes at these points, and so does the network:
//   the input                   constant, from the training data's range (unsigned when it has no negative value)
//   after each activation       learned scale (unsigned grid when calibration saw no negative value, else signed)
//   before an op that needs a quantized input (pools, flatten, conv, linear, a residual block) when it reads an
//   accumulator (a conv, linear, average pool or residual sum), learned likewise
//   a residual block's output   the block input's own quantizer, so that the sum needs no requantization
// Conv and linear layers quantize their weights (signed narrow grid, WeightScaling) and add a float bias to the
// integer accumulator; an average pool sums integers and divides in the next quantizer. Everything runs in float64
// on integer-valued tensors, in the compiler's order of operations: the exported graph's circuit computes the same
// integers (without the compiler's own rounding: compile it with --rounding-bits none to keep every bit).
class QatGraphNet {
 public:
  QatGraphNet(GraphNet net, QatGraphOptions options);

  // Creates the quantizers from the first `max_samples` rows of `features`, point by point (each learned scale at
  // the largest magnitude it sees, over qmax). Throws fhenn::Error on an empty or wrong-width set.
  void calibrate(const Matrix& features, size_t max_samples = 300);
  bool calibrated() const { return !quantizers_.empty(); }

  torch::Tensor forward(const torch::Tensor& x) const;  // logits (float64) of a batch [N, features]
  QatGraphOutputs run(const torch::Tensor& x) const;    // the same, with the circuit's output integers

  // The weights and biases (float32, GraphNet's) and the learned scales (float64).
  std::vector<torch::Tensor> parameters() const;
  const GraphNet& net() const { return net_; }
  const QatGraphOptions& options() const { return options_; }
  // The quantizers in the order the forward pass meets them (the input's first).
  std::vector<quant::UniformQuantizer> quantizers() const;

  // The network as a model graph: GraphNet's nodes, conv and linear with their trained weight quantizers (per
  // channel: the scales in tensor "weight_scales"), and a Quant node at every quantization point.
  compiler::ModelGraph to_model_graph() const;

 private:
  GraphNet net_;
  QatGraphOptions options_;
  std::vector<ActivationQuantizer> quantizers_;
};

struct TrainedQatGraphNet {
  QatGraphNet net;
  TrainResult training;  // the fine-tuning's loss when pruned; seconds of both
  size_t channels_removed = 0, channels_prunable = 0;
};

// Quantization-aware training of `architecture` on `train`: the quantizers calibrated on the initial network, then
// cross-entropy with AdamW (train_classifier); with `pruning`, then whole channels removed and fine-tuned.
TrainedQatGraphNet train_qat_graph_net(const Architecture& architecture, const LabelledSet& train,
                                       const TrainOptions& options, const QatGraphOptions& qat,
                                       const std::optional<ChannelPruning>& pruning = std::nullopt);

}  // namespace fhenn::nn
