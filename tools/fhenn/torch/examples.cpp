// The reference's examples as recipes, and one example trained, compiled and run encrypted (see examples.hpp).
#include "examples.hpp"

#include <algorithm>
#include <ostream>

#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/nn/graph_net.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

DataOptions data_options(const std::string& source, size_t test_limit = 0) {
  DataOptions data;
  data.source = source;
  data.test_limit = test_limit;
  return data;
}

nn::TrainOptions train_options(int epochs, double learning_rate, int batch_size, uint64_t seed,
                               nn::LrSchedule schedule = nn::LrSchedule::constant) {
  nn::TrainOptions train;
  train.epochs = epochs;
  train.learning_rate = learning_rate;
  train.batch_size = batch_size;
  train.seed = seed;
  train.schedule = schedule;
  return train;
}

BitsOptions bits_options(int n_bits, const std::string& rounding_bits, const std::string& rounding_ranges,
                         std::optional<int> input_bits = std::nullopt) {
  BitsOptions bits;
  bits.n_bits = n_bits;
  bits.inputs = input_bits;
  bits.rounding_bits = rounding_bits;
  bits.rounding_ranges = rounding_ranges;
  return bits;
}

constexpr runtime::RangeSource kWorstCase = runtime::RangeSource::worst_case;
constexpr runtime::RangeSource kSeen = runtime::RangeSource::seen;

std::vector<Example> make_examples() {
  std::vector<Example> all;
  all.push_back({"iris-mlp", "4 -> 16 -> 3, ReLU, half the hidden neurons pruned", data_options("iris"),
                 R"({"input": [4], "layers": [{"op": "linear", "out_features": 16}, {"op": "relu"},
                     {"op": "linear", "out_features": 3}]})",
                 train_options(100, 0.003, 4, 0), bits_options(3, "auto", "worst-case", 3), kWorstCase, 0,
                 "fp32 94.7%, quantized 89.5%, FHE 89.5% (its table); current docs: FHE 97.4%, 0.95 s per sample",
                 nn::ChannelPruning{0.5, 50}});
  all.push_back({"digits-cnn", "conv 8 channels 3 x 3 stride 2, ReLU, linear 10", data_options("digits"),
                 R"({"input": [1, 8, 8], "layers": [{"op": "conv", "out_channels": 8, "kernel": 3, "stride": 2,
                     "padding": 1}, {"op": "relu"}, {"op": "flatten"}, {"op": "linear", "out_features": 10}]})",
                 train_options(40, 0.01, 16, 0), bits_options(4, "auto", "worst-case"), kWorstCase, 0,
                 "fp32 90%, quantized and FHE random-like (its table); current docs: fp32 98.2%, FHE 99% on 100 "
                 "samples, 2.56 s per sample"});
  all.push_back({"fashion-mlp", "784 -> 64 -> 10, ReLU", data_options("fashion-mnist"),
                 R"({"input": [784], "layers": [{"op": "linear", "out_features": 64}, {"op": "relu"},
                     {"op": "linear", "out_features": 10}]})",
                 train_options(15, 0.002, 64, 1, nn::LrSchedule::cosine), bits_options(5, "auto", "seen"), kSeen, 1000,
                 "-"});
  all.push_back({"fashion-cnn", "conv 8 channels 4 x 4 stride 4, ReLU, linear 10", data_options("fashion-mnist"),
                 R"({"input": [1, 28, 28], "layers": [{"op": "conv", "out_channels": 8, "kernel": 4, "stride": 4},
                     {"op": "relu"}, {"op": "flatten"}, {"op": "linear", "out_features": 10}]})",
                 train_options(10, 0.002, 64, 1, nn::LrSchedule::cosine), bits_options(5, "auto", "seen"), kSeen, 1000,
                 "-"});
  return all;
}

nn::LabelledSet first_rows(const nn::LabelledSet& set, size_t limit) {
  return limit == 0 || limit >= set.size() ? set : head(set, limit);
}

}  // namespace

const std::vector<Example>& examples() {
  static const std::vector<Example> all = make_examples();
  return all;
}

std::string example_names() {
  std::string names;
  for (const Example& e : examples()) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

const Example& find_example(std::string_view name) {
  const Example* found = nullptr;
  size_t matches = 0;
  for (const Example& e : examples()) {
    if (e.name == name) return e;
    if (e.name.rfind(name, 0) == 0) {
      found = &e;
      ++matches;
    }
  }
  FHENN_CHECK(matches == 1, "no example '", name, "'", matches > 1 ? " (it starts several names)" : "",
              ": choose one of ", example_names());
  return *found;
}

nlohmann::json ExampleResult::to_json() const {
  nlohmann::json j{{"name", name},
                   {"train_samples", train_samples},
                   {"test_samples", test_samples},
                   {"fp32_accuracy", fp32_accuracy},
                   {"circuit_accuracy", evaluation.circuit_accuracy},
                   {"accumulator_bits", accumulator_bits},
                   {"training_seconds", training_seconds}};
  j.update(evaluation.to_json());
  return j;
}

ExampleResult run_example(const Example& example, const ExampleOverrides& overrides, std::ostream& log) {
  ExampleResult result;
  result.name = example.name;
  nn::Dataset data = example.data.load();
  data.train = first_rows(data.train, overrides.train_limit);
  data.test = first_rows(data.test, overrides.test_limit);
  result.train_samples = data.train.size();
  result.test_samples = data.test.size();

  const nn::Architecture architecture = nn::parse_architecture(example.architecture, "example " + example.name);
  nn::TrainOptions train = example.train;
  if (overrides.epochs > 0) train.epochs = overrides.epochs;
  train.label = "train " + example.name;
  log << example.name << ": training " << example.description << " on " << data.train.size() << " samples, "
      << train.epochs << " epochs" << std::endl;
  std::optional<nn::ChannelPruning> pruning = example.pruning;
  if (pruning && overrides.epochs > 0) pruning->fine_tune_epochs = std::max(1, overrides.epochs / 2);
  const nn::TrainedGraphNet trained = nn::train_graph_net(architecture, data.train, train, pruning);
  result.training_seconds = trained.training.seconds;
  const AnyModel model = trained.net.to_model_graph();
  result.fp32_accuracy = float_accuracy(model, data.test).value();

  runtime::PlanOptions plan = overrides.plan;  // the user's --ranges seen, or the recipe's
  if (example.ranges == runtime::RangeSource::seen) plan.ranges = example.ranges;
  const compiler::CompiledModel compiled = compile_model(model, data, example.bits, plan);
  if (compiled.auto_rounding) log << example.name << ": " << auto_rounding_summary(*compiled.auto_rounding);
  result.accumulator_bits = compiled.report.accumulator_bits;
  const size_t samples = overrides.encrypted_samples > 0 ? overrides.encrypted_samples
                         : example.encrypted_samples > 0 ? example.encrypted_samples
                                                         : data.test.size();
  const int threads = overrides.threads > 0 ? overrides.threads : default_thread_count();
  log << example.name << ": fp32 " << percent(result.fp32_accuracy) << " after "
      << ProgressBar::format_duration(result.training_seconds) << " of training; compiled (" << result.accumulator_bits
      << "-bit accumulators); running " << std::min(samples, data.test.size()) << " test samples encrypted"
      << std::endl;
  result.evaluation = evaluate_encrypted(compiled, data, samples, plan, threads, overrides.seed);
  log << example.name << ": circuit " << percent(result.evaluation.circuit_accuracy) << ", encrypted "
      << percent(result.evaluation.encrypted_accuracy) << "; " << result.evaluation.summary() << std::endl;
  return result;
}

}  // namespace fhenn::cli
