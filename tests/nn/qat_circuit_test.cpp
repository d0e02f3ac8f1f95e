// Exactness of QAT import: the compiled circuit, run in the clear, outputs the trained network's integers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/nn/qat_training.hpp"
#include "fhenn/nn/random.hpp"
#include "fhenn/runtime/executor.hpp"
#include "qat_test_shape.hpp"

namespace fhenn::nn {
namespace {

Matrix random_features(size_t rows, size_t cols, uint64_t seed) {
  SplitMix64 rng(seed);
  Matrix m(rows, cols);
  for (double& v : m.values) v = rng.uniform(-0.1, 1.1);
  return m;
}

// Every sample: the circuit's output integers equal the forward pass's, and so does the client's class.
void expect_circuit_matches(const QatNet& net, const Matrix& features) {
  const compiler::CompiledModel compiled = compiler::compile_qat(net.to_qat_mlp(), features);
  const QatPredictions predictions = net.predict(features);
  for (size_t row = 0; row < features.rows; ++row) {
    const std::vector<int64_t> outputs =
        runtime::run_clear(compiled.circuit, compiled.client.quantize(features.row(row)));
    ASSERT_EQ(outputs, predictions.output_integers[row]) << "sample " << row;
    ASSERT_EQ(compiler::predicted_class(compiled.client.dequantize(outputs)), predictions.classes[row])
        << "sample " << row;
  }
}

using Shape = testing::QatTestShape;

class QatCircuitExactness : public ::testing::TestWithParam<Shape> {};

TEST_P(QatCircuitExactness, CircuitOutputsTheForwardIntegers) {
  const Shape& shape = GetParam();
  QatNet net(testing::qat_options(shape, 3, 3, 21));
  const Matrix features = random_features(300, 3, 5);
  net.calibrate(features);
  expect_circuit_matches(net, features);
}

INSTANTIATE_TEST_SUITE_P(Shapes, QatCircuitExactness,
                         ::testing::Values(Shape{{8}, 2, std::nullopt, InputRange::unit, ActivationMode::unit},
                                           Shape{{16, 12}, 3, std::nullopt, InputRange::data, ActivationMode::learned},
                                           Shape{{10, 10, 10}, 4, 4, InputRange::learned, ActivationMode::learned},
                                           Shape{{40, 30}, 3, 5, InputRange::unit, ActivationMode::unit},
                                           Shape{{20, 20}, 6, 3, InputRange::data, ActivationMode::learned}));

// A small training run on the checkerboard (a subset of its training set), pruned, with rounding.
QatTrainResult train_small(int rounding_bits, uint64_t seed) {
  Dataset data = make_checkerboard(seed);
  const size_t keep = 1000;
  data.train.features.rows = keep;
  data.train.features.values.resize(keep * data.train.features.cols);
  data.train.labels.resize(keep);
  QatTrainOptions options;
  options.net.hidden_sizes = {30, 30};
  options.net.bits = 3;
  options.net.rounding_threshold_bits = rounding_bits;
  options.net.rounding_noise_margin = 0.1;
  options.net.seed = seed;
  options.train.seed = seed;
  options.train.epochs = 2;
  options.train.show_progress = false;
  options.max_non_zero = 10;
  options.prune_mode = PruneMode::neuron;
  return train_qat(data, options);
}

TEST(QatCircuit, TrainedRoundedNetworkRunsExactlyAndLookupsFitTheRoundingBits) {
  const QatTrainResult trained = train_small(5, 2);
  const Dataset data = make_checkerboard(2);
  expect_circuit_matches(trained.net, data.test.features);
  const compiler::CompiledModel compiled = compiler::compile_qat(trained.net.to_qat_mlp(), data.train.features);
  EXPECT_LE(compiled.report.max_lookup_input_bits, 5);
  EXPECT_LE(compiled.report.worst_case_max_lookup_input_bits, 5);
  EXPECT_GT(trained.test_accuracy, 0.6);
}

TEST(QatCircuit, MissingQuantizersAreNamed) {
  QatNetOptions options;
  options.hidden_sizes = {5, 4};
  const QatNet net(options);
  const Matrix features = random_features(10, 2, 1);
  const auto message_of = [&](compiler::QatMlp mlp) -> std::string {
    try {
      compiler::compile_qat(mlp, features);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  compiler::QatMlp no_weight_quantizer = net.to_qat_mlp();
  no_weight_quantizer.layers[1].weight_quantizer.reset();
  EXPECT_NE(message_of(no_weight_quantizer).find("fc2.weight"), std::string::npos) << message_of(no_weight_quantizer);
  compiler::QatMlp no_output_quantizer = net.to_qat_mlp();
  no_output_quantizer.layers[0].output_quantizer.reset();
  EXPECT_NE(message_of(no_output_quantizer).find("fc1"), std::string::npos) << message_of(no_output_quantizer);
  compiler::QatMlp no_input_quantizer = net.to_qat_mlp();
  no_input_quantizer.input_quantizer.reset();
  EXPECT_NE(message_of(no_input_quantizer).find("input"), std::string::npos) << message_of(no_input_quantizer);
}

}  // namespace
}  // namespace fhenn::nn
