// Options and steps shared by the clear-workflow commands (train, compile, evaluate, plot, experiment ptq).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/model.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/nn/dataset.hpp"
#include "fhenn/runtime/engine_plan.hpp"

namespace fhenn::cli {

// --data checkerboard|iris|digits|fashion-mnist|FILE.csv --label-column NAME --test-fraction F --data-seed S
struct DataOptions {
  std::string source = "checkerboard";
  std::string label_column;
  double test_fraction = 0.2;
  uint64_t seed = 0;
  size_t train_limit = 0, test_limit = 0;  // fashion-mnist: the first images of each split (0: all)

  void add_to(CLI::App& command);
  nn::Dataset load() const;
  nlohmann::json to_json() const;
};

// --n-bits N, or per role --bits-inputs/--bits-weights/--bits-activations/--bits-outputs,
// --rounding-bits auto|none|R, --rounding-tolerance F, --rounding-ranges worst-case|seen,
// --input-ranges per-feature|shared and --weight-scales per-tensor|per-channel.
struct BitsOptions {
  int n_bits = 3;
  std::optional<int> inputs, weights, activations, outputs;
  std::string rounding_bits = "auto";  // auto (compiler::AutoRoundingOptions), none, or a number of bits
  double rounding_tolerance = compiler::AutoRoundingOptions{}.tolerance;
  int max_lookup_bits = compiler::AutoRoundingOptions{}.max_bits;  // auto: the widest it may choose
  std::string rounding_ranges = "worst-case";
  std::string input_ranges = "shared";
  std::string weight_scales = "per-tensor";

  void add_to(CLI::App& command);
  compiler::PtqOptions ptq() const;
};

using AnyModel = compiler::TrainedModel;

int input_size_of(const AnyModel& model);
int output_size_of(const AnyModel& model);

// Throws fhenn::Error unless the model reads the data's features and scores every class in its labels.
void check_model_fits_data(const AnyModel& model, const nn::Dataset& data, const std::string& model_path);

// PTQ for a float model (calibrated on the training features), QAT import for a QAT model. Automatic rounding
// measures each candidate with the engine's simulator on the parameter set `plan` gives it, and reports the accuracy
// it costs on the training labels.
compiler::CompiledModel compile_model(const AnyModel& model, const nn::Dataset& data, const BitsOptions& bits,
                                      const runtime::PlanOptions& plan = {});

// A trial of the automatic rounding: plans the candidate as a deployment would (with seen ranges, when `plan` says
// so, those of `plan_features`, which must outlive the function), runs it on the engine's simulator and costs it by
// the engine's cost model (keyswitch and bootstrap cost times the bootstraps per sample); none when no parameter
// set can run it.
compiler::RoundingTrialFunction simulated_rounding_trial(const runtime::PlanOptions& plan, const Matrix& plan_features);

// What the automatic rounding chose, as text (a few lines) and JSON.
std::string auto_rounding_summary(const compiler::AutoRoundingReport& report);
nlohmann::json auto_rounding_json(const compiler::AutoRoundingReport& report);

// Throws fhenn::Error unless the circuit reads the data's features.
void check_compiled_fits_data(const compiler::CompiledModel& compiled, const nn::Dataset& data,
                              const std::string& path);

// The fraction of `classes` equal to the first labels (0 when there are none).
double accuracy_of(const std::vector<int>& classes, const std::vector<int64_t>& labels);

// The float model's predicted classes (float32 as trained; a model graph's float reference, in double); none for a
// QAT model, whose quantized model is the model.
std::optional<std::vector<int>> float_classes(const AnyModel& model, const Matrix& features);
// The float model's accuracy (float32 as trained; a model graph's float reference, in double); none for a QAT
// model, whose quantized model is the model.
std::optional<double> float_accuracy(const AnyModel& model, const nn::LabelledSet& set);

// Accuracy of the quantized model evaluated outside the circuit (fake quantization).
double quantized_accuracy(const compiler::CompiledModel& compiled, const nn::LabelledSet& set);
// The classes the circuit predicts run on integers in the clear (the client quantizes and dequantizes).
std::vector<int> circuit_classes(const compiler::CompiledModel& compiled, const Matrix& features, int threads);
// Accuracy of the circuit run on integers in the clear.
double circuit_accuracy(const compiler::CompiledModel& compiled, const nn::LabelledSet& set, int threads = 1);

// The per-node bit-width report as JSON, and a one-paragraph summary.
nlohmann::json bit_width_json(const ir::BitWidthReport& report);

}  // namespace fhenn::cli
