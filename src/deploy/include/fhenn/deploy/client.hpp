// The client of an encrypted model: key generation, quantize + encrypt, decrypt + dequantize.
#pragma once

#include <utility>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/deploy/artifacts.hpp"
#include "fhenn/tfhe/csprng.hpp"

namespace fhenn::deploy {

struct Predictions {
  std::vector<int64_t> outputs;  // the circuit's output integers, samples x output width
  Matrix scores;                 // dequantized scores, samples x classes
  std::vector<int> classes;      // argmax per sample
};

// Holds only the model's ClientSpec: it never sees a weight, a table or the circuit.
class Client {
 public:
  explicit Client(ClientSpec spec);

  // A fresh secret key (kept by the client) and the evaluation keys (sent to the server), tagged with this
  // model's id and a new random key id. Shows progress on a terminal when `show_progress`. Refuses a parameter
  // set below 128-bit security unless `security` allows it.
  std::pair<SecretKeys, EvaluationKeys> generate_keys(
      tfhe::Csprng& rng, int threads, bool show_progress,
      tfhe::KeySecurity security = tfhe::KeySecurity::require_128_bit) const;

  // Quantizes each row of `features` with the model's input quantizers and encrypts it. Throws fhenn::Error for
  // a wrong number of features, NaN/inf, or keys of another model.
  EncryptedBatch encrypt(const Matrix& features, const SecretKeys& keys, tfhe::Csprng& rng) const;

  // Decrypts results computed by the server for this model and key, dequantizes, takes the argmax.
  Predictions decrypt(const EncryptedBatch& results, const SecretKeys& keys) const;

  // Quantizes rows of features with the model's input quantizers (the clear and simulated paths use this too).
  // Throws fhenn::Error for a wrong number of features or NaN/inf.
  std::vector<int64_t> quantize(const Matrix& features) const;

  // Dequantizes already-decrypted output integers (the clear and simulated paths use this too).
  Predictions predictions_from_outputs(std::vector<int64_t> outputs, size_t samples) const;

  const ClientSpec& spec() const { return spec_; }

 private:
  void check_keys(const SecretKeys& keys) const;
  ClientSpec spec_;
};

}  // namespace fhenn::deploy
