// `fhenn train`: trains a fully connected classifier (float, or quantization-aware with --qat), optionally pruned,
// or a network from a JSON architecture (--arch), and saves it as a torch-free model file.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/nn/graph_net.hpp"
#include "fhenn/nn/mlp.hpp"
#include "fhenn/nn/qat_graph_net.hpp"
#include "fhenn/nn/qat_network.hpp"
#include "fhenn/nn/qat_training.hpp"
#include "output.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

struct TrainCommand {
  DataOptions data;
  std::string arch;
  std::vector<int> hidden = {100, 100};
  nn::TrainOptions train;
  std::optional<int> prune;
  std::string prune_mode = "neuron";
  std::optional<double> prune_channels;  // --arch: structured pruning after training
  std::optional<int> fine_tune_epochs;
  std::string lr_schedule = "constant";
  bool standardize = false;
  std::string out;
  std::string json;
  // --qat: quantization-aware training (Brevitas-style quantizers in the loop)
  bool qat = false;
  int bits = 3;
  int weight_bits = 0;  // 0: `bits`
  int input_bits = 0;   // 0: `bits`
  std::optional<int> rounding_bits;
  std::string rounding_fit = "layer";
  double rounding_noise = 0.0;
  std::string input_range = "unit";
  std::string activation = "learned";
  std::string weight_scales = "per-tensor";  // --qat --arch
};

nlohmann::json pruning_json(const nn::TrainedMlp& trained, const TrainCommand& c) {
  if (!trained.masks) return nullptr;
  nlohmann::json per_layer = nlohmann::json::array();
  for (const auto& weight : trained.model->weights()) per_layer.push_back(nn::max_non_zero_per_neuron(weight));
  return {{"max_non_zero", *c.prune}, {"mode", c.prune_mode}, {"max_non_zero_per_neuron", per_layer}};
}

void run_train_qat(const TrainCommand& c, const nn::Dataset& data) {
  nn::QatTrainOptions options;
  options.train = c.train;
  options.net.hidden_sizes = c.hidden;
  options.net.bits = c.bits;
  options.net.weight_bits = c.weight_bits;
  options.net.input_bits = c.input_bits;
  options.net.rounding_threshold_bits = c.rounding_bits;
  options.net.rounding_fit = nn::parse_rounding_fit(c.rounding_fit);
  options.net.rounding_noise_margin = c.rounding_noise;
  options.net.input_range = nn::parse_input_range(c.input_range);
  options.net.activation = nn::parse_activation_mode(c.activation);
  options.net.seed = c.train.seed;
  if (c.prune) {
    options.max_non_zero = *c.prune;
    options.prune_mode = nn::parse_prune_mode(c.prune_mode);
  }
  const auto trained = nn::train_qat(data, options);
  compiler::save_model(trained.net.to_qat_mlp(), c.out);
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  text << "trained a quantization-aware network (" << c.bits << " bits";
  if (c.rounding_bits) text << ", accumulators rounded to " << *c.rounding_bits << " bits";
  text << ") in " << ProgressBar::format_duration(trained.training.seconds) << ": train accuracy "
       << percent(trained.train_accuracy) << ", test accuracy " << percent(trained.test_accuracy)
       << " (exactly what its circuit computes)\nsaved " << c.out << "\n";
  if (!c.json.empty()) {
    write_json({{"model", c.out},
                {"qat", true},
                {"data", c.data.to_json()},
                {"hidden", c.hidden},
                {"bits", c.bits},
                {"weight_bits", c.weight_bits > 0 ? c.weight_bits : c.bits},
                {"input_bits", c.input_bits > 0 ? c.input_bits : c.bits},
                {"rounding_bits", c.rounding_bits ? nlohmann::json(*c.rounding_bits) : nlohmann::json(nullptr)},
                {"epochs", c.train.epochs},
                {"seed", c.train.seed},
                {"max_non_zero_per_neuron", trained.max_non_zero_per_neuron},
                {"train_accuracy", trained.train_accuracy},
                {"test_accuracy", trained.test_accuracy},
                {"seconds", trained.training.seconds}},
               c.json);
  }
}

// What training a network of an architecture gave, float or quantization-aware.
struct ArchitectureRun {
  compiler::ModelGraph graph;
  nn::TrainResult training;
  size_t channels_removed = 0, channels_prunable = 0;
  double train_accuracy = 0.0, test_accuracy = 0.0;
};

ArchitectureRun train_float_architecture(const nn::Architecture& architecture, const nn::Dataset& data,
                                         const nn::TrainOptions& options,
                                         const std::optional<nn::ChannelPruning>& pruning) {
  const nn::TrainedGraphNet trained = nn::train_graph_net(architecture, data.train, options, pruning);
  const auto forward = [&trained](const torch::Tensor& x) { return trained.net.forward(x); };
  return {trained.net.to_model_graph(),      trained.training,
          trained.channels_removed,          trained.channels_prunable,
          nn::accuracy(forward, data.train), nn::accuracy(forward, data.test)};
}

// The share of `set` a quantization-aware network classifies right, computed as its circuit computes it.
double qat_accuracy(const nn::QatGraphNet& net, const nn::LabelledSet& set) {
  FHENN_CHECK(set.size() > 0, "cannot measure accuracy on an empty set");
  torch::NoGradGuard no_grad;
  const torch::Tensor predicted = net.run(nn::to_float64_tensor(set.features)).logits.argmax(1);
  const auto correct = predicted.eq(torch::tensor(set.labels, torch::kInt64)).sum().item<int64_t>();
  return static_cast<double>(correct) / static_cast<double>(set.size());
}

ArchitectureRun train_qat_architecture(const TrainCommand& c, const nn::Architecture& architecture,
                                       const nn::Dataset& data, const nn::TrainOptions& options,
                                       const std::optional<nn::ChannelPruning>& pruning) {
  FHENN_CHECK(!c.rounding_bits && c.rounding_noise == 0.0,
              "--rounding-bits and --rounding-noise train the fully connected networks of --hidden; a "
              "quantization-aware --arch network is rounded by the compiler (fhenn compile --rounding-bits)");
  const nn::QatGraphOptions qat{c.bits, c.weight_bits, c.input_bits, nn::parse_weight_scaling(c.weight_scales)};
  const nn::TrainedQatGraphNet trained = nn::train_qat_graph_net(architecture, data.train, options, qat, pruning);
  return {trained.net.to_model_graph(),
          trained.training,
          trained.channels_removed,
          trained.channels_prunable,
          qat_accuracy(trained.net, data.train),
          qat_accuracy(trained.net, data.test)};
}

// --arch: a network from a JSON architecture, trained in float or with its quantizers (--qat), saved as a model
// graph.
void run_train_architecture(const TrainCommand& c, const nn::Dataset& data) {
  FHENN_CHECK(!c.prune && !c.standardize,
              "--arch trains on the data as it is, pruned by whole channels (--prune-channels): --prune and "
              "--standardize are for the fully connected networks of --hidden");
  std::optional<nn::ChannelPruning> pruning;
  if (c.prune_channels) {
    pruning = nn::ChannelPruning{*c.prune_channels, c.fine_tune_epochs.value_or(std::max(1, c.train.epochs / 2))};
  }
  const nn::Architecture architecture = nn::read_architecture(c.arch);
  const auto classes = static_cast<int>(nn::output_features(architecture));
  FHENN_CHECK(classes >= data.num_classes, c.arch, " gives ", classes, " scores but the data has ", data.num_classes,
              " classes: set the last linear layer's out_features to ", data.num_classes);
  nn::TrainOptions options = c.train;
  options.label = "train " + c.arch;
  const ArchitectureRun trained = c.qat ? train_qat_architecture(c, architecture, data, options, pruning)
                                        : train_float_architecture(architecture, data, options, pruning);
  const double train_accuracy = trained.train_accuracy;
  const double test_accuracy = trained.test_accuracy;
  const compiler::ModelGraph& graph = trained.graph;
  compiler::save_model(graph, c.out);
  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  text << "trained " << c.arch << " (" << graph.nodes.size() << " layers) on " << data.train.size() << " samples in "
       << ProgressBar::format_duration(trained.training.seconds) << "\n"
       << "final loss " << trained.training.final_loss << ", train accuracy " << percent(train_accuracy)
       << ", test accuracy " << percent(test_accuracy) << " (" << data.test.size() << " samples)"
       << (c.qat ? ": exactly what its circuit computes without rounding" : "") << "\n";
  if (pruning) {
    text << "pruned " << trained.channels_removed << " of " << trained.channels_prunable
         << " channels and neurons (the output layer's excepted), then fine-tuned " << pruning->fine_tune_epochs
         << " epochs\n";
  }
  text << "saved " << c.out << "\n";
  if (!c.json.empty()) {
    write_json({{"model", c.out},
                {"arch", c.arch},
                {"qat", c.qat},
                {"bits", c.qat ? nlohmann::json(c.bits) : nlohmann::json(nullptr)},
                {"weight_scales", c.qat ? nlohmann::json(c.weight_scales) : nlohmann::json(nullptr)},
                {"data", c.data.to_json()},
                {"input_size", data.num_features},
                {"classes", classes},
                {"epochs", c.train.epochs},
                {"batch_size", c.train.batch_size},
                {"seed", c.train.seed},
                {"pruned_channels", trained.channels_removed},
                {"prunable_channels", trained.channels_prunable},
                {"fine_tune_epochs", pruning ? pruning->fine_tune_epochs : 0},
                {"train_accuracy", train_accuracy},
                {"test_accuracy", test_accuracy},
                {"seconds", trained.training.seconds}},
               c.json);
  }
}

void run_train(TrainCommand c) {
  c.train.schedule = nn::parse_lr_schedule(c.lr_schedule);
  FHENN_CHECK(!(c.qat && c.standardize),
              "--standardize is for float training: a quantization-aware network sets its input range with "
              "--input-range (data: calibrated on the training set)");
  FHENN_CHECK(!c.arch.empty() || (!c.prune_channels && !c.fine_tune_epochs),
              "--prune-channels and --fine-tune-epochs prune the networks of --arch (a fully connected one is an "
              "architecture of linear layers too); --prune K bounds the weights per neuron of --hidden");
  const auto data = c.data.load();
  if (!c.arch.empty()) {
    run_train_architecture(c, data);
    return;
  }
  if (c.qat) {
    run_train_qat(c, data);
    return;
  }
  nn::MlpTrainOptions options;
  options.train = c.train;
  options.standardize_inputs = c.standardize;
  if (c.prune) options.pruning = nn::PruningOptions{*c.prune, nn::parse_prune_mode(c.prune_mode)};
  const nn::MlpShape shape{data.num_features, c.hidden, data.num_classes};
  auto trained = nn::train_mlp(shape, data.train, options);
  const auto forward = nn::forward_of(trained.model);
  const double train_accuracy = nn::accuracy(forward, data.train);
  const double test_accuracy = nn::accuracy(forward, data.test);
  compiler::save_model(nn::export_float_mlp(trained.model), c.out);

  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  text << "trained " << shape.input_size;
  for (int h : shape.hidden_sizes) text << " -> " << h;
  text << " -> " << shape.num_classes << " on " << data.train.size() << " samples in "
       << ProgressBar::format_duration(trained.training.seconds) << "\n"
       << "final loss " << trained.training.final_loss << ", train accuracy " << percent(train_accuracy)
       << ", test accuracy " << percent(test_accuracy) << " (" << data.test.size() << " samples)\n";
  if (trained.masks) {
    text << "pruned to " << *c.prune << " non-zero weights per neuron (" << c.prune_mode << " mode)\n";
  }
  text << "saved " << c.out << "\n";
  if (!c.json.empty()) {
    write_json({{"model", c.out},
                {"data", c.data.to_json()},
                {"input_size", shape.input_size},
                {"hidden", shape.hidden_sizes},
                {"classes", shape.num_classes},
                {"epochs", c.train.epochs},
                {"batch_size", c.train.batch_size},
                {"learning_rate", c.train.learning_rate},
                {"weight_decay", c.train.weight_decay},
                {"lr_schedule", c.lr_schedule},
                {"standardize_inputs", c.standardize},
                {"shuffle", c.train.shuffle},
                {"seed", c.train.seed},
                {"pruning", pruning_json(trained, c)},
                {"final_loss", trained.training.final_loss},
                {"train_accuracy", train_accuracy},
                {"test_accuracy", test_accuracy},
                {"seconds", trained.training.seconds}},
               c.json);
  }
}

void setup_train(CLI::App& root) {
  auto* cmd = root.add_subcommand("train",
                                  "Train a fully connected ReLU classifier (AdamW, cross-entropy), "
                                  "optionally pruned, and save it");
  auto c = std::make_shared<TrainCommand>();
  c->data.add_to(*cmd);
  cmd->add_option("--arch", c->arch,
                  "A JSON architecture instead of --hidden, e.g. {\"input\": [1, 8, 8], \"layers\": [{\"op\": "
                  "\"conv\", \"out_channels\": 8, \"kernel\": 3, \"padding\": 1}, {\"op\": \"relu\"}, {\"op\": "
                  "\"avgpool\", \"kernel\": 2}, {\"op\": \"flatten\"}, {\"op\": \"linear\", \"out_features\": 10}]} "
                  "(docs/workflow.md lists the ops)");
  cmd->add_option("--hidden", c->hidden, "Hidden layer sizes, comma-separated (SimpleNet: 100,100)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--epochs", c->train.epochs, "Training epochs")->capture_default_str();
  cmd->add_option("--lr", c->train.learning_rate, "AdamW learning rate")->capture_default_str();
  cmd->add_option("--batch-size", c->train.batch_size, "Samples per optimiser step")->capture_default_str();
  cmd->add_option("--weight-decay", c->train.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--lr-schedule", c->lr_schedule,
                  "'constant' (the reference's) or 'cosine' (annealed to 0 over the training)")
      ->capture_default_str();
  cmd->add_flag("--standardize", c->standardize,
                "Train on standardised inputs ((x - mean) / std of the training set; folded into fc1 when saved)");
  cmd->add_flag("!--no-shuffle", c->train.shuffle, "Keep the samples in order instead of shuffling every epoch");
  cmd->add_option("--seed", c->train.seed, "Seed of the initial weights and the shuffling")->capture_default_str();
  cmd->add_option("--prune", c->prune,
                  "Keep at most this many non-zero weights per neuron (mask from the "
                  "initial weights, held while training)");
  cmd->add_option("--prune-channels", c->prune_channels,
                  "--arch: after training, remove this fraction of every conv and linear layer's output channels "
                  "and neurons (the output layer's excepted; smallest weight norm first), so that their lookups "
                  "cost no bootstrap, then fine-tune")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--fine-tune-epochs", c->fine_tune_epochs,
                  "--prune-channels: epochs of training after the pruning (default: half of --epochs)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--prune-mode", c->prune_mode,
                  "'neuron' (every neuron keeps at most --prune weights) or 'layer' (the reference's per-layer L1 "
                  "count, a bound on average only; `fhenn experiment ptq` uses it to reproduce the reference's table)")
      ->capture_default_str();
  cmd->add_flag("--qat", c->qat, "Quantization-aware training: quantizers in the loop, exactly what the circuit runs");
  cmd->add_option("--bits", c->bits, "--qat: bits of the weights, activations and inputs")->capture_default_str();
  cmd->add_option("--weight-bits", c->weight_bits, "--qat: bits of the weights (default: --bits; 2: ternary)")
      ->check(CLI::Range(2, 8));
  cmd->add_option("--input-bits", c->input_bits, "--qat: bits of the input quantizer (default: --bits)")
      ->check(CLI::Range(1, 8));
  cmd->add_option("--rounding-bits", c->rounding_bits,
                  "--qat: keep this many most significant bits of each accumulator before its lookup");
  cmd->add_option("--rounding-fit", c->rounding_fit,
                  "--qat: 'layer' (the layer's range in --rounding-bits) or 'neuron' (each neuron's span: what the "
                  "encrypted runtime reads)")
      ->capture_default_str();
  cmd->add_option("--rounding-noise", c->rounding_noise,
                  "--qat: train with the encrypted runtime's off-by-one rounding near boundaries (margin, 0..0.5)");
  cmd->add_option("--input-range", c->input_range,
                  "--qat: input quantizer range: unit ([-1, 1]), positive ([0, 1]), data or learned")
      ->capture_default_str();
  cmd->add_option("--activation", c->activation, "--qat: quantizer after each ReLU: unit or learned (QuantReLU)")
      ->capture_default_str();
  cmd->add_option("--weight-scales", c->weight_scales,
                  "--qat --arch: one weight scale per layer (per-tensor) or per output channel (per-channel)")
      ->capture_default_str();
  cmd->add_option("--out", c->out, "Where to save the model (.fhm)")->required();
  cmd->add_option("--json", c->json, "Also write the results as JSON to this file ('-': stdout)");
  cmd->callback([c] {
    c->train.label = "train";
    run_train(*c);
  });
}

FHENN_REGISTER_COMMAND("10-train", setup_train);

}  // namespace
}  // namespace fhenn::cli
