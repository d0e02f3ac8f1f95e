// `fhenn bench inference`: encrypted inference time per sample for the demo network (exact lookups) and its
// variant with rounding, on one core and on all cores.
#include <algorithm>
#include <chrono>
#include <iostream>

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

nlohmann::json bench_variant(const nn::Dataset& data, const BenchInferenceArgs& a, bool rounding) {
  const size_t samples = a.samples;
  FHENN_CHECK(samples >= 1 && samples <= data.test.size(), "samples must be in 1..", data.test.size());
  const DemoModel model = build_demo_model(data, {a.seed, a.epochs, rounding, a.plan.options()});
  const auto& plan = model.deployment.client.plan;
  const deploy::Client client(model.deployment.client);
  const deploy::Server server(model.deployment.server);
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
          {"ranges", plan.ranges == runtime::RangeSource::worst_case ? "worst-case" : "seen"},
          {"accumulator_bits", report.accumulator_bits},
          {"max_lookup_input_bits", plan.max_index_bits},
          {"accumulator_bits_read", max_accumulator_bits_read(plan)},
          {"bootstraps_per_sample", plan.bootstraps_per_sample},
          {"parameter_set", plan.params.name},
          {"test_accuracy", model.trained.test_accuracy},
          {"keygen_seconds", keygen_seconds},
          {"samples", samples},
          {"timings", timings}};
}

void run_bench_inference(const BenchInferenceArgs& a) {
  const nn::Dataset data = nn::make_checkerboard(a.seed);
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(bench_variant(data, a, false));
  rows.push_back(bench_variant(data, a, true));
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    for (const auto& t : r["timings"]) {
      table.push_back({r["rounding_bits"].get<int>() > 0 ? std::to_string(r["rounding_bits"].get<int>()) : "none",
                       std::to_string(r["max_lookup_input_bits"].get<int>()),
                       std::to_string(r["bootstraps_per_sample"].get<size_t>()), r["parameter_set"].get<std::string>(),
                       std::to_string(t["threads"].get<int>()),
                       ProgressBar::format_duration(t["seconds_per_sample"].get<double>()),
                       ProgressBar::format_duration(r["keygen_seconds"].get<double>())});
    }
  }
  std::cout << markdown_table(
                   {"rounding bits", "lookup bits", "bootstraps", "parameter set", "threads", "per sample", "keygen"},
                   table)
            << "rounding bits none: every lookup reads its whole accumulator (exact); 4: lookups read the top bits "
               "of wider accumulators (approximate near the rounding boundaries)\n"
            << "reference (Concrete ML, 100 hidden pruned to 20, 3 bits): 10.23 s per sample, 10.10 s keygen\n";
  if (!a.json.empty()) write_json({{"inference", rows}}, a.json);
}

void setup_bench_inference(CLI::App& root) {
  auto& bench = subcommand_group(root, "bench", "Benchmarks of fhenn's components");
  auto* cmd = bench.add_subcommand("inference", "Encrypted inference time per sample of the demo network");
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
