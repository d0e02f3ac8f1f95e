// Encrypted prediction of a test set beside the clear circuit and the simulator (see encrypted_evaluation.hpp).
#include "encrypted_evaluation.hpp"

#include <algorithm>

#include "fhenn/deploy/server.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/runtime/simulated.hpp"

namespace fhenn::cli {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double accuracy_of(const std::vector<int>& classes, const std::vector<int64_t>& labels) {
  size_t correct = 0;
  for (size_t i = 0; i < classes.size(); ++i) correct += classes[i] == labels[i];
  return classes.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(classes.size());
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

}  // namespace fhenn::cli
