// The training loop (AdamW on cross-entropy, seeded shuffling, progress bar) and accuracy measurement.
#include "fhenn/nn/training.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

#include "fhenn/common/error.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/nn/random.hpp"

namespace fhenn::nn {
namespace {

constexpr uint64_t kShuffleStream = 3;
constexpr size_t kNoteEverySteps = 200;

void check_options(const TrainOptions& options, const LabelledSet& data) {
  FHENN_CHECK(options.epochs >= 1, "training needs at least 1 epoch, got ", options.epochs);
  FHENN_CHECK(options.batch_size >= 1, "the batch size must be at least 1, got ", options.batch_size);
  FHENN_CHECK(options.learning_rate > 0.0, "the learning rate must be positive, got ", options.learning_rate);
  FHENN_CHECK(options.weight_decay >= 0.0, "the weight decay must be non-negative, got ", options.weight_decay);
  FHENN_CHECK(data.size() > 0, "the training set is empty");
  FHENN_CHECK(data.features.rows == data.size(), "the training set has ", data.features.rows, " feature rows but ",
              data.size(), " labels");
}

// The sample order of one epoch: a seeded permutation, or the identity when not shuffling.
torch::Tensor epoch_order(size_t n, bool shuffle, SplitMix64& rng) {
  std::vector<int64_t> order(n);
  if (shuffle) {
    const auto permutation = random_permutation(n, rng);
    std::copy(permutation.begin(), permutation.end(), order.begin());
  } else {
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  return torch::tensor(order, torch::kInt64);
}

std::string progress_note(double loss_sum, int64_t correct, int64_t seen) {
  char text[64];
  std::snprintf(text, sizeof(text), "loss %.4f acc %.2f%%", loss_sum / static_cast<double>(seen),
                100.0 * static_cast<double>(correct) / static_cast<double>(seen));
  return text;
}

void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

}  // namespace

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::constant;
  if (name == "cosine") return LrSchedule::cosine;
  throw Error(concat("unknown learning-rate schedule '", name, "': use 'constant' (the reference's) or 'cosine'"));
}

std::string to_string(LrSchedule schedule) {
  return schedule == LrSchedule::cosine ? "cosine" : "constant";
}

// Cosine annealing (Loshchilov and Hutter, SGDR, ICLR 2017) without restarts: base * (1 + cos(pi t / T)) / 2.
double scheduled_learning_rate(LrSchedule schedule, double base, int64_t step, int64_t total_steps) {
  if (schedule == LrSchedule::constant || total_steps <= 0) return base;
  const double progress = static_cast<double>(step) / static_cast<double>(total_steps);
  return base * 0.5 * (1.0 + std::cos(M_PI * progress));
}

torch::Tensor to_tensor(const Matrix& m) {
  std::vector<float> values(m.values.begin(), m.values.end());
  return torch::tensor(values, torch::kFloat32).reshape({static_cast<int64_t>(m.rows), static_cast<int64_t>(m.cols)});
}

torch::Tensor labels_tensor(const std::vector<int64_t>& labels) {
  return torch::tensor(labels, torch::kInt64);
}

TrainResult train_classifier(const std::vector<torch::Tensor>& parameters,
                             const std::function<torch::Tensor(const torch::Tensor&)>& forward, const LabelledSet& data,
                             const TrainOptions& options, const std::function<void()>& after_step) {
  check_options(options, data);
  torch::set_num_threads(1);  // batch-1 steps on small networks are fastest on one thread; callers run in parallel
  const auto start = std::chrono::steady_clock::now();
  const auto features = to_tensor(data.features);
  const auto labels = labels_tensor(data.labels);
  const auto n = static_cast<int64_t>(data.size());
  const int64_t batches = (n + options.batch_size - 1) / options.batch_size;

  torch::optim::AdamW optimizer(parameters,
                                torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay));
  SplitMix64 shuffle_rng(derive_seed(options.seed, kShuffleStream));
  std::optional<ProgressBar> bar;
  if (options.show_progress) bar.emplace(options.label, static_cast<size_t>(options.epochs * batches));
  TrainResult result;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const auto order = epoch_order(data.size(), options.shuffle, shuffle_rng);
    const auto epoch_features = features.index_select(0, order);
    const auto epoch_labels = labels.index_select(0, order);
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t begin = b * options.batch_size;
      const int64_t size = std::min<int64_t>(options.batch_size, n - begin);
      const auto x = epoch_features.narrow(0, begin, size);
      const auto y = epoch_labels.narrow(0, begin, size);
      if (options.schedule != LrSchedule::constant) {
        set_learning_rate(optimizer, scheduled_learning_rate(options.schedule, options.learning_rate,
                                                             epoch * batches + b, options.epochs * batches));
      }
      optimizer.zero_grad();
      const auto scores = forward(x);
      const auto loss = torch::nn::functional::cross_entropy(scores, y);
      loss.backward();
      optimizer.step();
      if (after_step) after_step();
      loss_sum += loss.item<double>() * static_cast<double>(size);
      correct += scores.detach().argmax(1).eq(y).sum().item<int64_t>();
      if (bar) {
        bar->advance();
        if (b % kNoteEverySteps == 0) {
          bar->set_note(
              concat("epoch ", epoch + 1, "/", options.epochs, " ", progress_note(loss_sum, correct, begin + size)));
        }
      }
    }
    result.final_loss = loss_sum / static_cast<double>(n);
    result.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
  }
  if (bar) bar->finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

double accuracy(const std::function<torch::Tensor(const torch::Tensor&)>& forward, const LabelledSet& data) {
  FHENN_CHECK(data.size() > 0, "cannot measure accuracy on an empty set");
  torch::NoGradGuard no_grad;
  const auto predicted = forward(to_tensor(data.features)).argmax(1);
  const auto correct = predicted.eq(labels_tensor(data.labels)).sum().item<int64_t>();
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

void fill_uniform(const torch::Tensor& tensor, double bound, SplitMix64& rng) {
  auto flat = tensor.view({-1});
  auto values = flat.accessor<float, 1>();
  for (int64_t i = 0; i < flat.size(0); ++i) values[i] = static_cast<float>(rng.uniform(-bound, bound));
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace fhenn::nn
