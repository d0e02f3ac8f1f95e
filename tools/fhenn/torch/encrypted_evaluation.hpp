// A test set predicted as a client and a server would (keys, ciphertexts and results through their serialized
// forms), beside the clear circuit and the simulator: shared by `demo` and `evaluate --encrypted`.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fhenn/compiler/compile.hpp"
#include "fhenn/deploy/artifacts.hpp"
#include "fhenn/deploy/client.hpp"
#include "fhenn/nn/dataset.hpp"
#include "workflow.hpp"

namespace fhenn::cli {

double seconds_since(std::chrono::steady_clock::time_point start);
// The fraction of the first `n` samples on which `a` and `b` agree.
double agreement(const std::vector<int>& a, const std::vector<int>& b, size_t n);
// The first `n` rows of a labelled set.
nn::LabelledSet head(const nn::LabelledSet& set, size_t n);

// The client's keys: the secret key it keeps, the evaluation keys as sent to the server.
struct ClientKeys {
  deploy::SecretKeys secret;
  std::vector<uint8_t> evaluation_bytes;
  double seconds = 0.0;
};
ClientKeys generate_client_keys(const deploy::Deployment& deployment, tfhe::Csprng& rng, int threads);

struct EncryptedRun {
  std::vector<int> classes;  // per encrypted sample
  double seconds_per_sample = 0.0;
  size_t ciphertext_bytes_per_sample = 0;
};
// Encrypts `set` (client), runs it on what crosses the wire (server: its part, the evaluation keys, the
// ciphertexts), decrypts (client).
EncryptedRun run_encrypted(const deploy::Deployment& deployment, const ClientKeys& keys, const nn::LabelledSet& set,
                           tfhe::Csprng& rng, int threads);

// The classes of every sample of `set` through the circuit in the clear and through the simulator (the
// encryption's noise model, seeded).
struct ClearAndSimulated {
  std::vector<int> clear;
  std::vector<int> simulated;
};
ClearAndSimulated clear_and_simulated_classes(const compiler::CompiledModel& compiled,
                                              const deploy::Deployment& deployment, const nn::LabelledSet& set,
                                              uint64_t seed, int threads);

// A compiled model planned for the engine (plan_demo_deployment), its keys generated, the first `samples` test
// samples run encrypted and every test sample in the clear and simulated.
struct EncryptedEvaluation {
  double circuit_accuracy = 0.0;    // the whole test set, in the clear
  double simulated_accuracy = 0.0;  // the whole test set, with the encryption's noise model
  double encrypted_accuracy = 0.0;  // the first encrypted_samples
  size_t encrypted_samples = 0;
  double agreement_encrypted_vs_clear = 0.0;
  double agreement_simulated_vs_clear = 0.0;  // the whole test set: the rate the encrypted one should approach
  size_t lookups_per_sample = 0;
  int max_lookup_input_bits = 0;
  std::string parameter_set;
  double seconds_per_sample = 0.0;
  int threads = 0;
  double keygen_seconds = 0.0;
  size_t evaluation_key_bytes = 0;
  size_t ciphertext_bytes_per_sample = 0;

  // The fields under the names of `fhenn evaluate --json` (all but circuit_accuracy).
  nlohmann::json to_json() const;
  // "encrypted: 0.3 s per sample on 2 threads (15 bootstraps each, ...), ...".
  std::string summary() const;
};
EncryptedEvaluation evaluate_encrypted(const compiler::CompiledModel& compiled, const nn::Dataset& data, size_t samples,
                                       const runtime::PlanOptions& plan, int threads, uint64_t seed);

}  // namespace fhenn::cli
