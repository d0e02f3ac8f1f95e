// Training a classifier with the reference's recipe (Concrete ML documentation), every part configurable.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/random.hpp"

namespace fhenn::nn {

// How the learning rate moves over the steps: held (the reference) or annealed to 0 along a half cosine.
enum class LrSchedule { constant, cosine };

struct TrainOptions {
  int epochs = 5;
  int batch_size = 1;
  double learning_rate = 1e-3;
  double weight_decay = 0.01;  // AdamW
  LrSchedule schedule = LrSchedule::constant;
  bool shuffle = true;
  uint64_t seed = 0;          // initialisation and shuffling: same seed, same model
  bool show_progress = true;  // progress bar with loss, accuracy and time left (on a terminal only)
  std::string label = "train";
};

struct TrainResult {
  double final_loss = 0.0;
  double train_accuracy = 0.0;  // on the last epoch's samples as seen during training
  double seconds = 0.0;
};

// "constant" or "cosine"; anything else is a fhenn::Error naming the choices.
LrSchedule parse_lr_schedule(const std::string& name);
std::string to_string(LrSchedule schedule);

// The learning rate of step `step` (0-based) of `total_steps` under `schedule`, starting from `base`.
double scheduled_learning_rate(LrSchedule schedule, double base, int64_t step, int64_t total_steps);

// Trains `parameters` by minimising cross-entropy of forward(batch) against labels with AdamW.
// after_step runs after every optimiser step (e.g. to keep pruning masks applied).
TrainResult train_classifier(const std::vector<torch::Tensor>& parameters,
                             const std::function<torch::Tensor(const torch::Tensor&)>& forward, const LabelledSet& data,
                             const TrainOptions& options, const std::function<void()>& after_step = {});

// Accuracy of argmax(forward(x)) against the labels, in [0, 1].
double accuracy(const std::function<torch::Tensor(const torch::Tensor&)>& forward, const LabelledSet& data);

// A [rows, cols] float32 tensor of a Matrix, and its labels as int64.
torch::Tensor to_tensor(const Matrix& m);
torch::Tensor labels_tensor(const std::vector<int64_t>& labels);

// Fills a float32 `tensor` with uniform values in [-bound, bound) drawn from `rng` in row-major order (portable:
// the same values on every machine, unlike torch's generators).
void fill_uniform(const torch::Tensor& tensor, double bound, SplitMix64& rng);
// A tensor's values as doubles, row-major.
std::vector<double> to_doubles(const torch::Tensor& t);

}  // namespace fhenn::nn
