// `fhenn bench inference`: encrypted inference time per sample for the demo network (exact lookups) and its
// variant with rounding, on one core and on all cores, at failure targets of 2^-40, 2^-64 and 2^-128 per lookup.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "demo_pipeline.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/deploy/client.hpp"
#include "fhenn/deploy/server.hpp"
#include "output.hpp"
#include "plan_options.hpp"

namespace fhenn::cli {
namespace {

struct BenchInferenceArgs {
  size_t samples = 8;
  uint64_t seed = 2;
  int epochs = 0;
  std::string json;
  PlanFlags plan;
};

// The widest accumulator any lookup reads from (index bits plus the low bits its rounding drops).
int max_accumulator_bits_read(const runtime::EnginePlan& plan) {
  int widest = 0;
  for (const runtime::LookupPlan& lookup : plan.lookups) widest = std::max(widest, lookup.index_bits + lookup.shift);
  return widest;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "2^-40" for a power of two, else the number.
std::string format_probability(double p) {
  const double exponent = std::log2(p);
  if (exponent == std::round(exponent)) return "2^" + std::to_string(static_cast<int>(exponent));
  std::ostringstream out;
  out << p;
  return out.str();
}

// The failure targets per lookup benchmarked: the flags' (default 2^-40), then 2^-64 and 2^-128 (TFHE-rs's
// default), unless the flags force a parameter set or a global target.
std::vector<double> failure_targets(const runtime::PlanOptions& base) {
  std::vector<double> targets = {base.p_error};
  if (base.parameter_set || base.global_p_error) return targets;
  for (double t : {0x1p-64, 0x1p-128}) {
    if (t != base.p_error) targets.push_back(t);
  }
  return targets;
}

// Key generation and the encrypted run of `samples` test points for one deployment of the model.
nlohmann::json bench_deployment(const nn::Dataset& data, const DemoModel& model, const deploy::Deployment& deployment,
                                size_t samples) {
  const auto& plan = deployment.server.plan;
  const deploy::Client client(deployment.client);
  const deploy::Server server(deployment.server);
  auto rng = tfhe::Csprng::from_os();
  const int all = default_thread_count();
  auto start = std::chrono::steady_clock::now();
  const auto [secret, evaluation] = client.generate_keys(rng, all, true);
  const double keygen_seconds = seconds_since(start);
  Matrix features(samples, data.test.features.cols);
  std::copy_n(data.test.features.values.begin(), features.values.size(), features.values.begin());
  const auto inputs = client.encrypt(features, secret, rng);
  nlohmann::json timings = nlohmann::json::array();
  for (int threads : {1, all}) {
    start = std::chrono::steady_clock::now();
    server.run(inputs, evaluation, threads, true);
    const double per_sample = seconds_since(start) / static_cast<double>(samples);
    timings.push_back({{"threads", threads}, {"seconds_per_sample", per_sample}});
    if (all == 1) break;
  }
  const auto& report = model.compiled.report;
  return {{"rounding_bits", model.options.net.rounding_threshold_bits.value_or(0)},
          {"p_error", plan.p_error_per_lookup},
          {"p_error_text", format_probability(plan.p_error_per_lookup)},
          {"predicted_failure_per_lookup", plan.predicted_failure_per_lookup},
          {"ranges", plan.ranges == runtime::RangeSource::worst_case ? "worst-case" : "seen"},
          {"accumulator_bits", report.accumulator_bits},
          {"max_lookup_input_bits", plan.max_index_bits},
          {"max_squared_weight_norm", plan.max_squared_weight_norm},
          {"accumulator_bits_read", max_accumulator_bits_read(plan)},
          {"bootstraps_per_sample", plan.bootstraps_per_sample},
          {"parameter_set", plan.params.name},
          {"test_accuracy", model.trained.test_accuracy},
          {"keygen_seconds", keygen_seconds},
          {"samples", samples},
          {"timings", timings}};
}

// One network (exact or rounded lookups), trained once, planned and run at each failure target.
void bench_variant(const nn::Dataset& data, const BenchInferenceArgs& a, bool rounding, nlohmann::json& rows) {
  FHENN_CHECK(a.samples >= 1 && a.samples <= data.test.size(), "samples must be in 1..", data.test.size());
  const runtime::PlanOptions base = a.plan.options();
  const DemoModel model = build_demo_model(data, {a.seed, a.epochs, rounding, base});
  for (double target : failure_targets(base)) {
    if (target == base.p_error) {
      rows.push_back(bench_deployment(data, model, model.deployment, a.samples));
      continue;
    }
    runtime::PlanOptions options = base;
    options.p_error = target;
    const deploy::Deployment deployment = plan_demo_deployment(model.compiled, data.train.features, options);
    rows.push_back(bench_deployment(data, model, deployment, a.samples));
  }
}

void run_bench_inference(const BenchInferenceArgs& a) {
  const nn::Dataset data = nn::make_checkerboard(a.seed);
  nlohmann::json rows = nlohmann::json::array();
  bench_variant(data, a, false, rows);
  bench_variant(data, a, true, rows);
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    for (const auto& t : r["timings"]) {
      table.push_back({r["rounding_bits"].get<int>() > 0 ? std::to_string(r["rounding_bits"].get<int>()) : "none",
                       r["p_error_text"].get<std::string>(), std::to_string(r["max_lookup_input_bits"].get<int>()),
                       std::to_string(r["bootstraps_per_sample"].get<size_t>()), r["parameter_set"].get<std::string>(),
                       std::to_string(t["threads"].get<int>()),
                       ProgressBar::format_duration(t["seconds_per_sample"].get<double>()),
                       ProgressBar::format_duration(r["keygen_seconds"].get<double>())});
    }
  }
  std::cout << markdown_table({"rounding bits", "p_error per lookup", "lookup bits", "bootstraps", "parameter set",
                               "threads", "per sample", "keygen"},
                              table)
            << "rounding bits none: every lookup reads its whole accumulator (exact); 4: lookups read the top bits "
               "of wider accumulators (approximate near the rounding boundaries)\n"
            << "p_error: the failure probability per lookup the parameter set is chosen for (formula (10) of "
               "docs/tfhe.md); 2^-128 is TFHE-rs's default\n"
            << "reference (Concrete ML, 100 hidden pruned to 20, 3 bits): 10.23 s per sample, 10.10 s keygen\n";
  if (!a.json.empty()) write_json({{"inference", rows}}, a.json);
}

void setup_bench_inference(CLI::App& root) {
  auto& bench = subcommand_group(root, "bench", "Benchmarks of fhenn's components");
  auto* cmd = bench.add_subcommand(
      "inference", "Encrypted inference time per sample of the demo network at 2^-40, 2^-64 and 2^-128 per lookup");
  auto a = std::make_shared<BenchInferenceArgs>();
  cmd->add_option("--samples", a->samples, "Encrypted samples timed per network and thread count")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the data and the training");
  cmd->add_option("--epochs", a->epochs, "Training epochs (default: the demo configuration's)");
  cmd->add_option("--json", a->json, "Write the figures as JSON to this file ('-': stdout)");
  a->plan.add_to(*cmd);
  cmd->callback([a] { run_bench_inference(*a); });
}

FHENN_REGISTER_COMMAND("90-bench-inference", setup_bench_inference);

}  // namespace
}  // namespace fhenn::cli
