// Running a circuit on ciphertexts: client-side encryption/decryption, server-side evaluation, and an executor.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fhenn/common/progress.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/tfhe/keys.hpp"

namespace fhenn::runtime {

// Client: encrypts rows of quantized inputs (samples x circuit.input_width(), row-major) under the large key,
// each input node at its planned encoding. Returns samples * input_width ciphertexts, sample-major.
std::vector<tfhe::LweCiphertext> encrypt_inputs(const ir::Circuit& circuit, const EnginePlan& plan,
                                                const tfhe::ClientKey& key, std::span<const int64_t> inputs,
                                                tfhe::Csprng& rng);

// Client: decrypts samples * output_width result ciphertexts into the output integers (signed, exact).
std::vector<int64_t> decrypt_outputs(const ir::Circuit& circuit, const EnginePlan& plan, const tfhe::ClientKey& key,
                                     std::span<const tfhe::LweCiphertext> outputs);

// Server: evaluates the circuit on ciphertexts with evaluation keys only (it never sees a secret key).
// Dot products run on ciphertexts with clear integer weights (zero weights skipped); each lookup element is a
// key switch and a programmable bootstrap (formulas (E1)-(E4) of engine_plan.hpp); all bootstraps of a lookup
// node, over all samples, run in parallel on `threads` workers; neurons whose weights are all zero fold to
// clear constants.
class EncryptedEvaluator {
 public:
  EncryptedEvaluator(const ir::Circuit& circuit, const EnginePlan& plan, const tfhe::ServerKey& key, int threads);

  // `inputs`: samples * input_width ciphertexts (sample-major). Returns samples * output_width ciphertexts.
  // `progress`, when given, advances by one per bootstrap.
  std::vector<tfhe::LweCiphertext> evaluate(std::span<const tfhe::LweCiphertext> inputs,
                                            ProgressBar* progress = nullptr) const;

 private:
  void run_dot_product(ir::NodeId id, size_t samples, std::vector<std::vector<tfhe::Torus>>& values) const;
  void run_lookup(const LookupPlan& lookup, size_t samples, std::vector<std::vector<tfhe::Torus>>& values,
                  ProgressBar* progress) const;

  const ir::Circuit& circuit_;
  const EnginePlan& plan_;
  const tfhe::ServerKey& key_;
  int threads_;
  size_t ciphertext_size_;
  std::vector<std::vector<tfhe::LookupTable>> tables_;  // per planned lookup, per element (E4)
};

// The three-modes interface's encrypted member: holds a client key and the evaluation keys, and for each run
// encrypts the inputs, evaluates on ciphertexts, and decrypts. For tests, benchmarks and the demo; a real
// deployment splits this between Client and Server (deployment.hpp).
class EncryptedExecutor final : public Executor {
 public:
  EncryptedExecutor(const ir::Circuit& circuit, EnginePlan plan, const tfhe::ClientKey& client_key,
                    const tfhe::ServerKey& server_key, int threads, tfhe::Csprng rng);
  std::vector<int64_t> run(const ir::Circuit& circuit, std::span<const int64_t> inputs) override;
  IntMatrix run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) override;
  std::string name() const override { return "execute"; }
  // Shown during run_batch (one step per bootstrap).
  void set_progress_label(std::string label) { progress_label_ = std::move(label); }

 private:
  const ir::Circuit& circuit_;
  EnginePlan plan_;
  const tfhe::ClientKey& client_key_;
  EncryptedEvaluator evaluator_;
  tfhe::Csprng rng_;
  std::string progress_label_;
};

}  // namespace fhenn::runtime
