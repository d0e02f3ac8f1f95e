// Magnitude pruning of fully connected weights: the reference's per-layer L1-unstructured mode and a per-neuron mode.
#pragma once

#include <torch/torch.h>

#include <string>
#include <string_view>
#include <vector>

namespace fhenn::nn {

// layer:  the reference's torch.nn.utils.prune.l1_unstructured (Concrete ML documentation): in a [fan_out, fan_in]
//         weight with fan_in > max_non_zero, the (fan_in - max_non_zero) * fan_out smallest |w| of the whole
//         tensor are zeroed, so "max_non_zero per neuron" holds only on average.
// neuron: every output neuron (row) keeps its max_non_zero largest |w|, which bounds every accumulator.
enum class PruneMode { layer, neuron };

// "layer" / "neuron"; parse_prune_mode throws fhenn::Error naming the accepted values.
std::string to_string(PruneMode mode);
PruneMode parse_prune_mode(std::string_view text);

// One 0/1 mask per weight (same shape and dtype), or an undefined tensor for a weight left unpruned
// (fan_in <= max_non_zero). Computed once (the reference computes it from the initial weights) and then held.
struct PruningMasks {
  std::vector<torch::Tensor> masks;
  int max_non_zero = 0;
  PruneMode mode = PruneMode::layer;
};

// Masks for 2-D weights [fan_out, fan_in] from their current magnitudes. Ties are broken by position
// (the earlier weight is kept), so the result is deterministic. Throws fhenn::Error when max_non_zero < 1
// or a weight is not 2-D.
PruningMasks make_masks(const std::vector<torch::Tensor>& weights, int max_non_zero, PruneMode mode);

// Multiplies each weight by its mask in place (no autograd). Call after every optimiser step to keep the
// pruned weights at zero during training (train_classifier's after_step), and once after training, which
// makes the pruning permanent (the exported weights hold exact zeros).
void apply_masks(const PruningMasks& masks, const std::vector<torch::Tensor>& weights);

// Zeroes the gradients of pruned weights (optional, before the step: the pruned weights then never move).
void mask_gradients(const PruningMasks& masks, const std::vector<torch::Tensor>& weights);

// The largest number of non-zero weights in any row of a 2-D weight (what bounds that layer's accumulators).
int max_non_zero_per_neuron(const torch::Tensor& weight);

}  // namespace fhenn::nn
