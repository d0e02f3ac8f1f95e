// Running a circuit on ciphertexts: client-side encryption/decryption, server-side evaluation, and an executor.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fhenn/common/progress.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "fhenn/runtime/executor.hpp"
#include "fhenn/tfhe/keys.hpp"

namespace fhenn::runtime {

// What a client needs of a planned circuit to encrypt and decrypt, and nothing more (no weight, no table):
// per input element the integers the circuit accepts and their encoding w (m * 2^(63 - w)), per output element
// its encoding.
struct ClientEncodings {
  std::vector<ir::Range> input_ranges;
  std::vector<int> input_bits;
  std::vector<int> output_bits;
  bool operator==(const ClientEncodings&) const = default;
};
ClientEncodings client_encodings(const ir::Circuit& circuit, const EnginePlan& plan);
// Throws fhenn::Error naming `what` for empty or mismatched sizes, an encoding outside 1..62 bits, or a range
// that its encoding cannot carry.
void validate_encodings(const ClientEncodings& encodings, const std::string& what);

// Client: encrypts rows of quantized inputs (samples x input width, row-major) under the large key, each element
// at its encoding; throws fhenn::Error for an integer outside its range. Returns the ciphertexts, sample-major.
std::vector<tfhe::LweCiphertext> encrypt_inputs(const ClientEncodings& encodings, const tfhe::ClientKey& key,
                                                std::span<const int64_t> inputs, tfhe::Csprng& rng);
std::vector<tfhe::LweCiphertext> encrypt_inputs(const ir::Circuit& circuit, const EnginePlan& plan,
                                                const tfhe::ClientKey& key, std::span<const int64_t> inputs,
                                                tfhe::Csprng& rng);
// The same, seed-compressed (tfhe::SeededCiphertexts: one body per input, the masks regenerated from a seed):
// what a client uploads.
tfhe::SeededCiphertexts encrypt_inputs_seeded(const ClientEncodings& encodings, const tfhe::ClientKey& key,
                                              std::span<const int64_t> inputs, tfhe::Csprng& rng);

// Client: decrypts samples * output width result ciphertexts into the output integers (signed, exact).
std::vector<int64_t> decrypt_outputs(const ClientEncodings& encodings, const tfhe::ClientKey& key,
                                     std::span<const tfhe::LweCiphertext> outputs);
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
  void run_linear(ir::NodeId id, size_t samples, std::vector<std::vector<tfhe::Torus>>& values) const;
  void run_lookup(const LookupPlan& lookup, size_t samples, std::vector<std::vector<tfhe::Torus>>& values,
                  ProgressBar* progress) const;

  const ir::Circuit& circuit_;
  const EnginePlan& plan_;
  const tfhe::ServerKey& key_;
  int threads_;
  size_t ciphertext_size_;
  std::vector<std::vector<tfhe::LookupTable>> tables_;  // per planned lookup, per table (E4)
  std::vector<std::vector<int64_t>> folded_;            // per planned lookup, per element: the constant's entry
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
