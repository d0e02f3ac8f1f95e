// Encrypted prediction of a test set beside the clear circuit and the simulator (see encrypted_evaluation.hpp).
#include "encrypted_evaluation.hpp"

#include <algorithm>
#include <sstream>

#include "demo_pipeline.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/deploy/server.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/runtime/simulated.hpp"

namespace fhenn::cli {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double agreement(const std::vector<int>& a, const std::vector<int>& b, size_t n) {
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += a[i] == b[i];
  return n == 0 ? 0.0 : static_cast<double>(same) / static_cast<double>(n);
}

nn::LabelledSet head(const nn::LabelledSet& set, size_t n) {
  nn::LabelledSet out;
  out.features = Matrix(n, set.features.cols);
  std::copy_n(set.features.values.begin(), n * set.features.cols, out.features.values.begin());
  out.labels.assign(set.labels.begin(), set.labels.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

ClientKeys generate_client_keys(const deploy::Deployment& deployment, tfhe::Csprng& rng, int threads) {
  const deploy::Client client(deployment.client);
  const auto start = std::chrono::steady_clock::now();
  auto [secret, evaluation] = client.generate_keys(rng, threads, true);
  ClientKeys keys{std::move(secret), {}, seconds_since(start)};
  keys.evaluation_bytes = deploy::serialize_evaluation_keys(evaluation);
  return keys;
}

EncryptedRun run_encrypted(const deploy::Deployment& deployment, const ClientKeys& keys, const nn::LabelledSet& set,
                           tfhe::Csprng& rng, int threads) {
  const deploy::Client client(deployment.client);
  const auto& params = deployment.server.plan.params;
  const auto input_bytes = deploy::serialize_batch(client.encrypt(set.features, keys.secret, rng), params);
  const deploy::Server server(deployment.server);
  const auto server_keys =
      deploy::deserialize_evaluation_keys(keys.evaluation_bytes, deployment.server, "evaluation keys", threads);
  const auto server_inputs =
      deploy::deserialize_batch(input_bytes, deploy::EncryptedBatch::Kind::inputs, params, "inputs");
  const auto start = std::chrono::steady_clock::now();
  const auto results = server.run(server_inputs, server_keys, threads, true);
  const double seconds = seconds_since(start);
  const auto n = static_cast<double>(set.size());
  return {client.decrypt(results, keys.secret).classes, seconds / n, input_bytes.size() / set.size()};
}

ClearAndSimulated clear_and_simulated_classes(const compiler::CompiledModel& compiled,
                                              const deploy::Deployment& deployment, const nn::LabelledSet& set,
                                              uint64_t seed, int threads) {
  const deploy::Client client(deployment.client);
  runtime::IntMatrix quantized(set.size(), compiled.client.inputs.size());
  quantized.values = compiled.client.quantize_rows(set.features);
  const auto clear = client.predictions_from_outputs(
      runtime::ClearExecutor(threads).run_batch(compiled.circuit, quantized).values, set.size());
  runtime::SimulatedExecutor simulator(compiled.circuit, deployment.server.plan, seed, threads);
  const auto simulated =
      client.predictions_from_outputs(simulator.run_batch(compiled.circuit, quantized).values, set.size());
  return {clear.classes, simulated.classes};
}

nlohmann::json EncryptedEvaluation::to_json() const {
  return {{"simulated_accuracy", simulated_accuracy},
          {"encrypted_accuracy", encrypted_accuracy},
          {"encrypted_samples", encrypted_samples},
          {"agreement_encrypted_vs_clear", agreement_encrypted_vs_clear},
          {"agreement_simulated_vs_clear", agreement_simulated_vs_clear},
          {"lookups_per_sample", lookups_per_sample},
          {"max_lookup_input_bits", max_lookup_input_bits},
          {"parameter_set", parameter_set},
          {"seconds_per_sample", seconds_per_sample},
          {"threads", threads},
          {"keygen_seconds", keygen_seconds},
          {"evaluation_key_bytes", evaluation_key_bytes},
          {"ciphertext_bytes_per_sample", ciphertext_bytes_per_sample}};
}

std::string EncryptedEvaluation::summary() const {
  std::ostringstream out;
  out << "encrypted: " << ProgressBar::format_duration(seconds_per_sample) << " per sample on " << threads
      << " threads (" << lookups_per_sample << " bootstraps each, widest lookup " << max_lookup_input_bits
      << " bits, parameter set " << parameter_set << "), key generation "
      << ProgressBar::format_duration(keygen_seconds) << ", evaluation keys " << evaluation_key_bytes / 1e6 << " MB, "
      << ciphertext_bytes_per_sample / 1e3 << " kB of ciphertext per sample";
  return out.str();
}

EncryptedEvaluation evaluate_encrypted(const compiler::CompiledModel& compiled, const nn::Dataset& data, size_t samples,
                                       const runtime::PlanOptions& plan, int threads, uint64_t seed) {
  EncryptedEvaluation e;
  e.threads = threads;
  e.encrypted_samples = std::min(samples, data.test.size());
  const deploy::Deployment deployment = plan_demo_deployment(compiled, data.train.features, plan);
  const auto& engine = deployment.server.plan;
  auto rng = tfhe::Csprng::from_os();
  const ClientKeys keys = generate_client_keys(deployment, rng, threads);
  const nn::LabelledSet encrypted_set = head(data.test, e.encrypted_samples);
  const EncryptedRun encrypted = run_encrypted(deployment, keys, encrypted_set, rng, threads);
  const auto [clear, simulated] = clear_and_simulated_classes(compiled, deployment, data.test, seed, threads);
  e.circuit_accuracy = accuracy_of(clear, data.test.labels);
  e.simulated_accuracy = accuracy_of(simulated, data.test.labels);
  e.encrypted_accuracy = accuracy_of(encrypted.classes, encrypted_set.labels);
  e.agreement_encrypted_vs_clear = agreement(encrypted.classes, clear, e.encrypted_samples);
  e.agreement_simulated_vs_clear = agreement(simulated, clear, clear.size());
  e.lookups_per_sample = engine.bootstraps_per_sample;
  e.max_lookup_input_bits = engine.max_index_bits;
  e.parameter_set = engine.params.name;
  e.seconds_per_sample = encrypted.seconds_per_sample;
  e.keygen_seconds = keys.seconds;
  e.evaluation_key_bytes = keys.evaluation_bytes.size();
  e.ciphertext_bytes_per_sample = encrypted.ciphertext_bytes_per_sample;
  return e;
}

}  // namespace fhenn::cli
