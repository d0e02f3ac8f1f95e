// Magnitude pruning masks (per layer as the reference's l1_unstructured, or per neuron) and their application.
#include "fhenn/nn/pruning.hpp"

#include "fhenn/common/assert.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::nn {
namespace {

// Indices (into the flattened tensor) of its `count` largest |values|, ties kept in position order.
torch::Tensor largest_magnitudes(const torch::Tensor& flat, int64_t count) {
  const auto order = torch::argsort(flat.abs().neg(), /*stable=*/true, /*dim=*/0, /*descending=*/false);
  return order.narrow(0, 0, count);
}

// l1_unstructured with amount = (fan_in - k) * fan_out: keeps the k * fan_out largest |w| of the whole tensor.
torch::Tensor layer_mask(const torch::Tensor& weight, int64_t max_non_zero) {
  const auto flat = weight.detach().reshape({-1});
  auto mask = torch::zeros_like(flat);
  mask.index_fill_(0, largest_magnitudes(flat, max_non_zero * weight.size(0)), 1.0);
  return mask.reshape(weight.sizes());
}

// Every row keeps its k largest |w|.
torch::Tensor neuron_mask(const torch::Tensor& weight, int64_t max_non_zero) {
  const auto detached = weight.detach();
  auto mask = torch::zeros_like(detached);
  for (int64_t row = 0; row < detached.size(0); ++row) {
    mask[row].index_fill_(0, largest_magnitudes(detached[row], max_non_zero), 1.0);
  }
  return mask;
}

}  // namespace

std::string to_string(PruneMode mode) {
  return mode == PruneMode::layer ? "layer" : "neuron";
}

PruneMode parse_prune_mode(std::string_view text) {
  if (text == "layer") return PruneMode::layer;
  if (text == "neuron") return PruneMode::neuron;
  fail("unknown pruning mode '", text, "': use 'layer' (the reference's per-layer L1 pruning) or 'neuron' ",
       "(each neuron keeps its largest weights)");
}

PruningMasks make_masks(const std::vector<torch::Tensor>& weights, int max_non_zero, PruneMode mode) {
  FHENN_CHECK(max_non_zero >= 1, "pruning needs at least 1 non-zero weight per neuron, got ", max_non_zero);
  PruningMasks result{{}, max_non_zero, mode};
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < weights.size(); ++i) {
    const auto& weight = weights[i];
    FHENN_CHECK(weight.dim() == 2, "pruning expects 2-D weights [fan_out, fan_in]; weight ", i, " has ", weight.dim(),
                " dimensions");
    if (weight.size(1) <= max_non_zero) {  // fan_in <= max_non_zero: nothing to prune (the reference skips it)
      result.masks.emplace_back();
      continue;
    }
    result.masks.push_back(mode == PruneMode::layer ? layer_mask(weight, max_non_zero)
                                                    : neuron_mask(weight, max_non_zero));
  }
  return result;
}

void apply_masks(const PruningMasks& masks, const std::vector<torch::Tensor>& weights) {
  FHENN_ASSERT_EQ(masks.masks.size(), weights.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (masks.masks[i].defined()) weights[i].mul_(masks.masks[i]);
  }
}

void mask_gradients(const PruningMasks& masks, const std::vector<torch::Tensor>& weights) {
  FHENN_ASSERT_EQ(masks.masks.size(), weights.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < weights.size(); ++i) {
    auto grad = weights[i].mutable_grad();
    if (masks.masks[i].defined() && grad.defined()) grad.mul_(masks.masks[i]);
  }
}

int max_non_zero_per_neuron(const torch::Tensor& weight) {
  FHENN_CHECK(weight.dim() == 2, "expected a 2-D weight, got ", weight.dim(), " dimensions");
  if (weight.size(0) == 0) return 0;
  return static_cast<int>(weight.detach().ne(0).sum(1).max().item<int64_t>());
}

}  // namespace fhenn::nn
