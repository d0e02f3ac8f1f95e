// The demo network end to end (see demo_pipeline.hpp).
#include "demo_pipeline.hpp"

#include <chrono>

#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/noise.hpp"

namespace fhenn::cli {
deploy::Deployment plan_deployment(const compiler::CompiledModel& compiled, const Matrix& train_features,
                                   const runtime::PlanOptions& options) {
  if (options.ranges == runtime::RangeSource::worst_case) return deploy::make_deployment(compiled, options);
  const auto seen = deploy::observe_ranges(compiled, train_features);
  return deploy::make_deployment(compiled, options, &seen);
}

deploy::Deployment plan_demo_deployment(const compiler::CompiledModel& compiled, const Matrix& train_features,
                                        const runtime::PlanOptions& options) {
  try {
    return plan_deployment(compiled, train_features, options);
  } catch (const Error&) {
    if (options.ranges == runtime::RangeSource::seen) throw;
    auto seen_options = options;
    seen_options.ranges = runtime::RangeSource::seen;
    return plan_deployment(compiled, train_features, seen_options);
  }
}

nn::LookupNoise engine_lookup_noise(const tfhe::ParameterSet& params) {
  nn::LookupNoise noise;
  noise.variance_constant = tfhe::noise::pbs_input_variance(params, 0.0);
  noise.variance_per_squared_norm = tfhe::noise::pbs_input_variance(params, 1.0) - noise.variance_constant;
  return noise;
}

tfhe::ParameterSet initial_parameter_set(const nn::Dataset& data, const nn::QatTrainOptions& options,
                                         const runtime::PlanOptions& plan) {
  const nn::QatNet initial = nn::initial_qat_net(data, options);
  const compiler::CompiledModel compiled = compiler::compile_qat(initial.to_qat_mlp(), data.train.features);
  return plan_demo_deployment(compiled, data.train.features, plan).server.plan.params;
}

DemoModel build_demo_model(const nn::Dataset& data, const DemoSettings& settings) {
  nn::QatTrainOptions options = settings.rounding ? nn::demo_rounding_qat_config() : nn::demo_qat_config();
  options.train.seed = settings.seed;
  options.net.seed = settings.seed;
  if (settings.epochs > 0) options.train.epochs = settings.epochs;
  if (settings.rounding) {
    options.net.lookup_noise = engine_lookup_noise(initial_parameter_set(data, options, settings.plan));
  }
  options.train.label = settings.rounding ? "QAT training (rounding)" : "QAT training";
  const auto start = std::chrono::steady_clock::now();
  nn::QatTrainResult trained = nn::train_qat(data, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  compiler::CompiledModel compiled = compiler::compile_qat(trained.net.to_qat_mlp(), data.train.features);
  deploy::Deployment deployment = plan_demo_deployment(compiled, data.train.features, settings.plan);
  return {options, std::move(trained), std::move(compiled), std::move(deployment), seconds};
}

}  // namespace fhenn::cli
