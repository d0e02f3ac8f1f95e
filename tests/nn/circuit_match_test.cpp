// The integer circuit run in the clear matches the fake-quantized model bit for bit on the whole checkerboard
// test set, for networks really trained (briefly) by nn and compiled by post-training quantization.
#include <gtest/gtest.h>

#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/mlp.hpp"
#include "fhenn/runtime/executor.hpp"

namespace fhenn::nn {
namespace {

struct Case {
  const char* name;
  MlpShape shape;
  int epochs;
  std::optional<PruningOptions> pruning;
  quant::NBits n_bits;
  std::optional<int> rounding_bits;
};

compiler::FloatMlp train_briefly(const Case& c, const Dataset& data) {
  MlpTrainOptions options;
  options.train.epochs = c.epochs;
  options.train.seed = 11;
  options.train.show_progress = false;
  options.pruning = c.pruning;
  return export_float_mlp(train_mlp(c.shape, data.train, options).model);
}

void expect_circuit_matches_fake_quantization(const Case& c) {
  const auto data = make_checkerboard(5);
  const auto model = train_briefly(c, data);
  compiler::PtqOptions ptq;
  ptq.n_bits = c.n_bits;
  ptq.rounding_threshold_bits = c.rounding_bits;
  const auto compiled = compiler::compile_ptq(model, data.train.features, ptq);
  size_t agreeing_predictions = 0;
  for (size_t i = 0; i < data.test.size(); ++i) {
    const auto features = data.test.features.row(i);
    const auto fake = compiler::fake_quantized_scores(compiled, features);
    const auto circuit =
        compiled.client.dequantize(runtime::run_clear(compiled.circuit, compiled.client.quantize(features)));
    ASSERT_EQ(fake, circuit) << c.name << ": sample " << i;  // doubles compared exactly
    agreeing_predictions += compiler::predicted_class(fake) == compiler::predicted_class(circuit) ? 1 : 0;
  }
  EXPECT_EQ(agreeing_predictions, data.test.size());
  EXPECT_GT(compiled.report.accumulator_bits, 0);
}

TEST(CircuitMatchesFakeQuantization, SimpleNetThreeBits) {
  expect_circuit_matches_fake_quantization(
      {"SimpleNet(30), 3 bits", MlpShape::simple_net(30), 1, std::nullopt, quant::NBits::uniform(3), std::nullopt});
}

TEST(CircuitMatchesFakeQuantization, PrunedPerNeuron) {
  expect_circuit_matches_fake_quantization({"SimpleNet(40) pruned to 8 per neuron", MlpShape::simple_net(40), 1,
                                            PruningOptions{8, PruneMode::neuron}, quant::NBits::uniform(3),
                                            std::nullopt});
}

TEST(CircuitMatchesFakeQuantization, ThreeHiddenLayersOtherBitsAndRounding) {
  quant::NBits bits;
  bits.model_inputs = 6;
  bits.op_inputs = 4;
  bits.op_weights = 2;
  bits.model_outputs = 6;
  expect_circuit_matches_fake_quantization({"2 -> 24 -> 16 -> 8 -> 2, mixed bits, rounding to 5 bits",
                                            MlpShape{2, {24, 16, 8}, 2}, 1, std::nullopt, bits, 5});
}

TEST(ModelFile, ATrainedModelSurvivesSaveAndLoad) {
  const auto data = make_checkerboard(5);
  const auto model =
      train_briefly({"small", {2, {6}, 2}, 1, std::nullopt, quant::NBits::uniform(3), std::nullopt}, data);
  const auto path = std::filesystem::temp_directory_path() / ("fhenn_nn_model_" + std::to_string(::getpid()) + ".fhm");
  compiler::save_model(model, path);
  const auto loaded = std::get<compiler::FloatMlp>(compiler::load_model(path));
  std::filesystem::remove(path);
  auto original = import_float_mlp(model);
  auto reloaded = import_float_mlp(loaded);
  EXPECT_TRUE(
      torch::equal(original->forward(to_tensor(data.test.features)), reloaded->forward(to_tensor(data.test.features))));
}

}  // namespace
}  // namespace fhenn::nn
