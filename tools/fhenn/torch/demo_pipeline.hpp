// The demo network end to end (data, QAT training, compilation, deployment): shared by `demo` and `bench inference`.
#pragma once

#include <cstdint>
#include <optional>

#include "fhenn/compiler/compile.hpp"
#include "fhenn/deploy/artifacts.hpp"
#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/qat_training.hpp"
#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::cli {

struct DemoSettings {
  uint64_t seed = 2;
  int epochs = 0;         // 0: the demo configuration's own
  bool rounding = false;  // false: nn::demo_qat_config (exact lookups); true: nn::demo_rounding_qat_config
  runtime::PlanOptions plan;
};

struct DemoModel {
  nn::QatTrainOptions options;
  nn::QatTrainResult trained;
  compiler::CompiledModel compiled;
  deploy::Deployment deployment;
  double training_seconds = 0.0;
};

// Plans a compiled model for the engine as options.ranges says: from the worst-case ranges, or from the ranges
// seen on the training features (as the reference sizes them).
deploy::Deployment plan_deployment(const compiler::CompiledModel& compiled, const Matrix& train_features,
                                   const runtime::PlanOptions& options);

// plan_deployment, falling back from the worst-case ranges to the seen ones when a lookup would be wider than the
// engine's 8 bits.
deploy::Deployment plan_demo_deployment(const compiler::CompiledModel& compiled, const Matrix& train_features,
                                        const runtime::PlanOptions& options);

// The engine's noise at a lookup input for `params` (tfhe::noise::pbs_input_variance, formula (9)), as the
// training-time model nn::LookupNoise.
nn::LookupNoise engine_lookup_noise(const tfhe::ParameterSet& params);

// The parameter set the engine plan gives the untrained, pruned demo network (nn::initial_qat_net): the noise the
// network trains with (its lookups read the same bits, the weight norms only shrink in training).
tfhe::ParameterSet initial_parameter_set(const nn::Dataset& data, const nn::QatTrainOptions& options,
                                         const runtime::PlanOptions& plan);

// Trains the demo's QAT network (nn::demo_qat_config, or with rounding nn::demo_rounding_qat_config trained with
// the engine's lookup noise of initial_parameter_set; seeded), compiles it and plans it for the engine. Lookups
// wider than the engine's 8 bits in the worst case fall back to the ranges seen on the training set (as the
// reference sizes them).
DemoModel build_demo_model(const nn::Dataset& data, const DemoSettings& settings);

}  // namespace fhenn::cli
