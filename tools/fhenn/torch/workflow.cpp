// Options and steps shared by the clear-workflow commands: data, bit widths, compilation and accuracies.
#include "workflow.hpp"

#include <algorithm>
#include <charconv>
#include <iomanip>
#include <sstream>

#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/deploy/artifacts.hpp"
#include "fhenn/nn/mlp.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/runtime/simulated.hpp"
#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::cli {
namespace {

template <typename Model>
const compiler::DenseLayer& last_layer(const Model& model);
template <>
const compiler::DenseLayer& last_layer(const compiler::FloatMlp& model) {
  FHENN_CHECK(!model.layers.empty(), "the model has no layers");
  return model.layers.back();
}
template <>
const compiler::DenseLayer& last_layer(const compiler::QatMlp& model) {
  FHENN_CHECK(!model.layers.empty(), "the model has no layers");
  return model.layers.back().layer;
}

void check_labels_below(const nn::Dataset& data, int classes, const std::string& what) {
  FHENN_CHECK(data.num_classes <= classes, what, " scores ", classes, " classes but the data has labels up to ",
              data.num_classes - 1, "; train the model on this data (fhenn train --data ...)");
}

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

double accuracy_of(const std::vector<int>& classes, const std::vector<int64_t>& labels) {
  size_t correct = 0;
  for (size_t i = 0; i < classes.size(); ++i) correct += classes[i] == labels[i];
  return classes.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(classes.size());
}

void DataOptions::add_to(CLI::App& command) {
  command
      .add_option("--data", source,
                  "'checkerboard' (the reference's data set), 'iris' (150 flowers, 4 features, 3 classes), "
                  "'digits' (1,797 8 x 8 images, 64 features in [0, 1]; both from Debian's python3-sklearn), "
                  "'fashion-mnist' (Debian's dataset-fashion-mnist: 28 x 28 images, 784 features in [0, 1]) or a CSV "
                  "file (gzipped if it ends in .gz)")
      ->capture_default_str();
  command.add_option("--train-limit", train_limit, "fashion-mnist: use the first N training images (0: all 60,000)")
      ->capture_default_str();
  command.add_option("--test-limit", test_limit, "fashion-mnist: use the first N test images (0: all 10,000)")
      ->capture_default_str();
  command.add_option("--label-column", label_column,
                     "CSV: the name of the integer label column in the header (default: the last column)");
  command.add_option("--test-fraction", test_fraction, "CSV, iris, digits: the fraction of rows held out for testing")
      ->capture_default_str();
  command
      .add_option("--data-seed", seed,
                  "Seed of the data: checkerboard noise and split, CSV, iris and digits split (use the same in every "
                  "command)")
      ->capture_default_str();
}

nn::Dataset DataOptions::load() const {
  if (source == "checkerboard") return nn::make_checkerboard(seed);
  if (source == "fashion-mnist") return nn::load_fashion_mnist(nn::kFashionMnistDir, train_limit, test_limit);
  if (source == "iris") return nn::load_iris(test_fraction, seed);
  if (source == "digits") return nn::load_digits(test_fraction, seed);
  FHENN_CHECK(std::filesystem::exists(source), "no data file '", source,
              "': give --data checkerboard, iris, digits, fashion-mnist or the path of a CSV file");
  return nn::load_csv(source, label_column, test_fraction, seed);
}

nlohmann::json DataOptions::to_json() const {
  nlohmann::json j{{"source", source}, {"seed", seed}};
  if (source == "fashion-mnist") {
    j["train_limit"] = train_limit;
    j["test_limit"] = test_limit;
  } else if (source != "checkerboard") {
    j["label_column"] = label_column;
    j["test_fraction"] = test_fraction;
  }
  return j;
}

void BitsOptions::add_to(CLI::App& command) {
  command
      .add_option("--n-bits", n_bits,
                  "Bits of weights and activations; model inputs and outputs get max(5, n) as in the reference")
      ->capture_default_str();
  command.add_option("--bits-inputs", inputs, "Override: bits of the model inputs (the client's quantization)");
  command.add_option("--bits-weights", weights, "Override: bits of every layer's weights");
  command.add_option("--bits-activations", activations, "Override: bits of the activations inside the circuit");
  command.add_option("--bits-outputs", outputs, "Override: bits of the model outputs");
  command
      .add_option("--rounding-bits", rounding_bits,
                  "Bits of each accumulator a table lookup reads (its most significant ones): 'auto' (the fewest "
                  "that keep the calibration set's accuracy, within --rounding-tolerance, on the engine's "
                  "simulator), 'none' (every bit), or a number")
      ->capture_default_str();
  command
      .add_option("--rounding-tolerance", rounding_tolerance,
                  "--rounding-bits auto: the accuracy the rounding may cost on the calibration set (a fraction: "
                  "0.01 is one point)")
      ->check(CLI::Range(0.0, 0.999))
      ->capture_default_str();
  command
      .add_option("--rounding-ranges", rounding_ranges,
                  "--rounding-bits: of which range: 'worst-case' (every input reads its table exactly) or 'seen' "
                  "(the range on the calibration set, the reference's: fewer bits dropped; plan with --ranges seen)")
      ->check(CLI::IsMember({"worst-case", "seen"}))
      ->capture_default_str();
  command
      .add_option("--input-ranges", input_ranges,
                  "Post-training quantization of the inputs: 'shared' (one range for all, the reference's) or "
                  "'per-feature' (each feature its own scale and zero point, folded into the first layer's "
                  "weights: for features whose ranges differ by orders of magnitude; at few weight bits the "
                  "folded weights lose more than the shared range)")
      ->check(CLI::IsMember({"per-feature", "shared"}))
      ->capture_default_str();
  command
      .add_option("--weight-scales", weight_scales,
                  "Post-training quantization of each layer's weights: 'per-tensor' (one scale, the reference's) or "
                  "'per-channel' (one per output channel or neuron, fitted to its own weights)")
      ->check(CLI::IsMember({"per-tensor", "per-channel"}))
      ->capture_default_str();
}

compiler::PtqOptions BitsOptions::ptq() const {
  compiler::PtqOptions options;
  options.n_bits = quant::NBits::uniform(n_bits);
  if (inputs) options.n_bits.model_inputs = *inputs;
  if (weights) options.n_bits.op_weights = *weights;
  if (activations) options.n_bits.op_inputs = *activations;
  if (outputs) options.n_bits.model_outputs = *outputs;
  quant::validate(options.n_bits);
  if (rounding_bits == "auto") {
    options.auto_rounding = compiler::AutoRoundingOptions{};
    options.auto_rounding->tolerance = rounding_tolerance;
    options.auto_rounding->max_bits = max_lookup_bits;
  } else if (rounding_bits != "none") {
    int bits = 0;
    const auto [end, error] = std::from_chars(rounding_bits.data(), rounding_bits.data() + rounding_bits.size(), bits);
    FHENN_CHECK(error == std::errc() && end == rounding_bits.data() + rounding_bits.size() && bits >= 1,
                "--rounding-bits is '", rounding_bits, "': give 'auto', 'none' or a number of bits of at least 1");
    options.rounding_threshold_bits = bits;
  }
  options.rounding_ranges =
      rounding_ranges == "seen" ? compiler::RangeMeasure::seen : compiler::RangeMeasure::worst_case;
  options.input_quantization =
      input_ranges == "shared" ? compiler::InputQuantization::per_tensor : compiler::InputQuantization::per_channel;
  options.weight_quantization = weight_scales == "per-channel" ? compiler::WeightQuantization::per_channel
                                                               : compiler::WeightQuantization::per_tensor;
  return options;
}

int input_size_of(const AnyModel& model) {
  if (const auto* graph = std::get_if<compiler::ModelGraph>(&model)) {
    return static_cast<int>(compiler::Graph::build(*graph).input_features());
  }
  if (const auto* float_model = std::get_if<compiler::FloatMlp>(&model)) return float_model->input_size;
  return std::get<compiler::QatMlp>(model).input_size;
}

int output_size_of(const AnyModel& model) {
  if (const auto* graph = std::get_if<compiler::ModelGraph>(&model)) {
    const compiler::Graph built = compiler::Graph::build(*graph);
    size_t outputs = 0;
    for (const std::string& name : built.outputs())
      outputs += ir::shape_elements(built.shape(built.tensor_index(name)));
    return static_cast<int>(outputs);
  }
  if (const auto* float_model = std::get_if<compiler::FloatMlp>(&model)) return last_layer(*float_model).out_features;
  return last_layer(std::get<compiler::QatMlp>(model)).out_features;
}

void check_model_fits_data(const AnyModel& model, const nn::Dataset& data, const std::string& model_path) {
  const int inputs = input_size_of(model);
  FHENN_CHECK(inputs == data.num_features, "the model ", model_path, " reads ", inputs, " features but the data has ",
              data.num_features);
  check_labels_below(data, output_size_of(model), "the model " + model_path);
}

compiler::CompiledModel compile_model(const AnyModel& model, const nn::Dataset& data, const BitsOptions& bits,
                                      const runtime::PlanOptions& plan) {
  compiler::PtqOptions options = bits.ptq();
  if (options.auto_rounding) {
    options.auto_rounding->trial = simulated_rounding_trial(plan, data.train.features);
    options.auto_rounding->labels = data.train.labels;
  }
  if (const auto* float_model = std::get_if<compiler::FloatMlp>(&model)) {
    return compiler::compile_ptq(*float_model, data.train.features, options);
  }
  if (const auto* graph = std::get_if<compiler::ModelGraph>(&model)) {
    return compiler::compile_graph(compiler::Graph::build(*graph), data.train.features,
                                   compiler::graph_options(options));
  }
  return compiler::compile_qat(std::get<compiler::QatMlp>(model), data.train.features);
}

compiler::RoundingTrialFunction simulated_rounding_trial(const runtime::PlanOptions& plan,
                                                         const Matrix& plan_features) {
  return [plan, &plan_features](const compiler::CompiledModel& compiled,
                                const Matrix& rows) -> std::optional<compiler::RoundingTrial> {
    runtime::EnginePlan engine;
    try {
      const auto seen = plan.ranges == runtime::RangeSource::seen
                            ? std::optional<ir::SeenRanges>(deploy::observe_ranges(compiled, plan_features))
                            : std::nullopt;
      engine = runtime::plan_for_engine(compiled.circuit, plan, seen ? &*seen : nullptr);
    } catch (const Error&) {
      return std::nullopt;  // too wide, or too noisy, for every parameter set
    }
    runtime::IntMatrix inputs(rows.rows, compiled.client.inputs.size());
    inputs.values = compiled.client.quantize_rows(rows);
    const runtime::IntMatrix outputs =
        runtime::SimulatedExecutor(compiled.circuit, engine, /*seed=*/0, default_thread_count())
            .run_batch(compiled.circuit, inputs);
    compiler::RoundingTrial trial;
    for (size_t r = 0; r < outputs.rows; ++r) {
      trial.classes.push_back(compiler::predicted_class(compiled.client.dequantize(outputs.row(r))));
    }
    trial.cost = tfhe::keyswitch_bootstrap_cost(engine.params) * static_cast<double>(engine.bootstraps_per_sample);
    trial.parameter_set = engine.params.name;
    return trial;
  };
}

std::string auto_rounding_summary(const compiler::AutoRoundingReport& report) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(2);
  if (report.unrounded_bits == 0) return "automatic rounding: no lookup reads an accumulator, nothing to round\n";
  text << "automatic rounding: ";
  if (report.cap >= report.unrounded_bits) {
    text << "every accumulator keeps all its bits (the widest, " << report.unrounded_bits << " bits)";
  } else {
    text << "lookups read at most " << report.cap << " bits of their accumulators (" << report.unrounded_bits
         << " unrounded)";
  }
  if (!report.parameter_set.empty()) text << ", on " << report.parameter_set;
  text << "\n";
  const auto chosen = std::find_if(report.steps.begin(), report.steps.end(),
                                   [&](const compiler::RoundingStep& step) { return step.cap == report.cap; });
  if (chosen != report.steps.end() && !chosen->agreement) {
    text << "  no parameter set runs even " << report.cap << " bits: lower the bits (--n-bits) or prune\n";
  } else {
    text << "  on " << report.samples << " calibration samples, simulated: ";
    if (report.unrounded_accuracy && report.rounded_accuracy) {
      text << "accuracy " << 100.0 * *report.rounded_accuracy << "% (" << 100.0 * *report.unrounded_accuracy
           << "% unrounded; tolerance " << 100.0 * report.tolerance << " points), ";
    }
    text << 100.0 * report.agreement << "% of the unrounded circuit's predictions kept";
    if (!report.of_accuracy) text << " (tolerance " << 100.0 * report.tolerance << "% changed)";
    text << "\n";
    if (!report.meets_target) {
      text << "  even " << report.cap << " bits, the widest lookup allowed, cost more than --rounding-tolerance: "
           << "lower the bits (--n-bits), prune, or train with QAT\n";
    }
  }
  text << "  per accumulator (range bits -> kept):";
  for (const auto& acc : report.accumulators)
    text << " " << acc.tensor << " " << acc.range_bits << "->" << acc.kept_bits;
  text << "\n  tried (bits: " << (report.of_accuracy ? "accuracy" : "predictions kept") << "):";
  for (const auto& step : report.steps) {
    const auto measure = report.of_accuracy ? step.accuracy : step.agreement;
    text << " " << step.cap << ": ";
    if (measure)
      text << 100.0 * *measure << "%";
    else
      text << "no set";
  }
  text << "\n";
  return text.str();
}

nlohmann::json auto_rounding_json(const compiler::AutoRoundingReport& report) {
  nlohmann::json accumulators = nlohmann::json::array();
  for (const auto& acc : report.accumulators) {
    accumulators.push_back(
        {{"tensor", acc.tensor}, {"range_bits", acc.range_bits}, {"kept_bits", acc.kept_bits}, {"shift", acc.shift}});
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : report.steps) {
    steps.push_back({{"bits", step.cap},
                     {"agreement", optional_number(step.agreement)},
                     {"accuracy", optional_number(step.accuracy)},
                     {"cost", step.cost},
                     {"parameter_set", step.parameter_set}});
  }
  return {{"bits", report.cap},
          {"unrounded_bits", report.unrounded_bits},
          {"agreement", report.agreement},
          {"meets_target", report.meets_target},
          {"tolerance", report.tolerance},
          {"tolerance_of", report.of_accuracy ? "accuracy" : "predictions"},
          {"samples", report.samples},
          {"unrounded_accuracy", optional_number(report.unrounded_accuracy)},
          {"rounded_accuracy", optional_number(report.rounded_accuracy)},
          {"parameter_set", report.parameter_set},
          {"accumulators", accumulators},
          {"steps", steps}};
}

void check_compiled_fits_data(const compiler::CompiledModel& compiled, const nn::Dataset& data,
                              const std::string& path) {
  FHENN_CHECK(compiled.client.inputs.size() == static_cast<size_t>(data.num_features), "the compiled model ", path,
              " reads ", compiled.client.inputs.size(), " features but the data has ", data.num_features);
  check_labels_below(data, static_cast<int>(compiled.client.outputs.size()), "the compiled model " + path);
}

std::optional<std::vector<int>> float_classes(const AnyModel& model, const Matrix& features) {
  std::vector<int> classes(features.rows);
  if (const auto* graph = std::get_if<compiler::ModelGraph>(&model)) {
    const compiler::Graph built = compiler::Graph::build(*graph);
    const size_t output = built.tensor_index(built.outputs().front());
    for (size_t r = 0; r < features.rows; ++r) {
      classes[r] = compiler::predicted_class(built.evaluate(features.row(r))[output].values);
    }
    return classes;
  }
  const auto* float_model = std::get_if<compiler::FloatMlp>(&model);
  if (float_model == nullptr) return std::nullopt;
  torch::NoGradGuard no_grad;
  const auto predicted = nn::import_float_mlp(*float_model)->forward(nn::to_tensor(features)).argmax(1).contiguous();
  std::copy_n(predicted.data_ptr<int64_t>(), features.rows, classes.begin());
  return classes;
}

std::optional<double> float_accuracy(const AnyModel& model, const nn::LabelledSet& set) {
  const auto classes = float_classes(model, set.features);
  if (!classes) return std::nullopt;
  return accuracy_of(*classes, set.labels);
}

double quantized_accuracy(const compiler::CompiledModel& compiled, const nn::LabelledSet& set) {
  FHENN_CHECK(set.size() > 0, "cannot measure accuracy on an empty set");
  size_t correct = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    const auto scores = compiler::fake_quantized_scores(compiled, set.features.row(i));
    if (compiler::predicted_class(scores) == set.labels[i]) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(set.size());
}

std::vector<int> circuit_classes(const compiler::CompiledModel& compiled, const Matrix& features, int threads) {
  runtime::IntMatrix inputs(features.rows, compiled.client.inputs.size());
  inputs.values = compiled.client.quantize_rows(features);
  const auto outputs = runtime::ClearExecutor(threads).run_batch(compiled.circuit, inputs);
  std::vector<int> classes(features.rows);
  for (size_t i = 0; i < features.rows; ++i) {
    classes[i] = compiler::predicted_class(compiled.client.dequantize(outputs.row(i)));
  }
  return classes;
}

double circuit_accuracy(const compiler::CompiledModel& compiled, const nn::LabelledSet& set, int threads) {
  FHENN_CHECK(set.size() > 0, "cannot measure accuracy on an empty set");
  return accuracy_of(circuit_classes(compiled, set.features, threads), set.labels);
}

nlohmann::json bit_width_json(const ir::BitWidthReport& report) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : report.nodes) {
    nodes.push_back({{"name", node.name},
                     {"op", std::string(ir::traits(node.kind).name)},
                     {"width", node.width},
                     {"seen_min", node.seen.min},
                     {"seen_max", node.seen.max},
                     {"seen_bits", node.seen_bits},
                     {"worst_case_min", node.worst_case.min},
                     {"worst_case_max", node.worst_case.max},
                     {"worst_case_bits", node.worst_case_bits},
                     {"feeds_table_lookup", node.feeds_table_lookup},
                     {"is_integer_node", node.is_integer_node}});
  }
  return {{"samples", report.samples},
          {"accumulator_bits", report.accumulator_bits},
          {"worst_case_accumulator_bits", report.worst_case_accumulator_bits},
          {"max_lookup_input_bits", report.max_lookup_input_bits},
          {"worst_case_max_lookup_input_bits", report.worst_case_max_lookup_input_bits},
          {"nodes", nodes}};
}

}  // namespace fhenn::cli
