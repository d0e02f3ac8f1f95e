// The examples of the reference's table as recipes (data set, network, training, compilation, the reference's
// published figures), and one example run end to end: shared by `experiment examples` and `demo --example`.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encrypted_evaluation.hpp"
#include "fhenn/nn/graph_net.hpp"
#include "fhenn/nn/training.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "workflow.hpp"

namespace fhenn::cli {

struct Example {
  std::string name;         // "iris-mlp", "digits-cnn", "fashion-mlp", "fashion-cnn"
  std::string description;  // the network, in words
  DataOptions data;
  std::string architecture;  // JSON, as `fhenn train --arch` reads it
  nn::TrainOptions train;
  BitsOptions bits;
  // How the engine is planned: a rounding fitted on the ranges seen is planned on them (the reference's sizing).
  runtime::RangeSource ranges = runtime::RangeSource::worst_case;
  size_t encrypted_samples = 0;                 // the default; 0: the whole test split
  std::string reference;                        // the reference's published figures for the same example, or "-"
  std::optional<nn::ChannelPruning> pruning{};  // structured pruning after training, then fine-tuning
};

// Every example, in the table's order.
const std::vector<Example>& examples();
// The example called `name`, or the only one whose name starts with it ("iris", "digits"); throws fhenn::Error
// listing the names.
const Example& find_example(std::string_view name);
std::string example_names();

// What a run may change of an example (0: the example's own): for quick runs and tests.
struct ExampleOverrides {
  int epochs = 0;
  size_t train_limit = 0;  // the first N training samples
  size_t test_limit = 0;   // the first N test samples
  size_t encrypted_samples = 0;
  int threads = 0;  // 0: FHENN_THREADS or all cores
  uint64_t seed = 0;
  runtime::PlanOptions plan;
};

struct ExampleResult {
  std::string name;
  size_t train_samples = 0, test_samples = 0;
  double fp32_accuracy = 0.0;
  double training_seconds = 0.0;
  int accumulator_bits = 0;
  EncryptedEvaluation evaluation;

  // The row of `experiment examples --json`.
  nlohmann::json to_json() const;
};

// Trains the example's network (seeded), compiles it with post-training quantization, and evaluates it in the
// clear, simulated and encrypted (evaluate_encrypted). `log` gets one line per step.
ExampleResult run_example(const Example& example, const ExampleOverrides& overrides, std::ostream& log);

}  // namespace fhenn::cli
