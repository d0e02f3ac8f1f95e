// The client of an encrypted model (see client.hpp).
#include "fhenn/deploy/client.hpp"

#include <cmath>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/runtime/encrypted.hpp"

namespace fhenn::deploy {

Client::Client(ClientSpec spec) : spec_(std::move(spec)) {}

std::pair<SecretKeys, EvaluationKeys> Client::generate_keys(tfhe::Csprng& rng, int threads, bool show_progress,
                                                            tfhe::KeySecurity security) const {
  // Two steps of very different length; the bar reports them as they finish (the bootstrap key dominates).
  std::unique_ptr<ProgressBar> progress;
  if (show_progress) progress = std::make_unique<ProgressBar>("keygen", 2);
  const tfhe::Seed id_bytes = rng.next_seed();
  const std::string key_id = to_hex(std::span(id_bytes).first(16));
  SecretKeys secret{spec_.model_id, key_id, tfhe::ClientKey::generate(spec_.params, rng, security)};
  if (progress) progress->advance();
  EvaluationKeys evaluation{spec_.model_id, key_id, tfhe::ServerKey::generate(secret.key, rng, threads)};
  if (progress) progress->advance();
  return {std::move(secret), std::move(evaluation)};
}

void Client::check_keys(const SecretKeys& keys) const {
  FHENN_CHECK(keys.model_id == spec_.model_id, "the secret key belongs to model ", keys.model_id.substr(0, 12),
              ", this client part is model ", spec_.model_id.substr(0, 12),
              ": use the keys generated with this client part (fhenn keygen)");
  FHENN_CHECK(keys.key.params.same_keys_as(spec_.params), "the secret key is for parameter set '",
              keys.key.params.name, "', the model needs '", spec_.params.name, "'");
}

std::vector<int64_t> Client::quantize(const Matrix& features) const {
  const auto& inputs = spec_.quantization.inputs;
  FHENN_CHECK(features.cols == inputs.size(), "the model takes ", inputs.size(), " features per sample, the input has ",
              features.cols);
  for (size_t r = 0; r < features.rows; ++r) {
    for (size_t c = 0; c < features.cols; ++c) {
      FHENN_CHECK(std::isfinite(features.at(r, c)), "input row ", r + 1, ", feature ", c + 1,
                  " is not a finite number (", features.at(r, c), ")");
    }
  }
  return spec_.quantization.quantize_rows(features);
}

EncryptedBatch Client::encrypt(const Matrix& features, const SecretKeys& keys, tfhe::Csprng& rng) const {
  check_keys(keys);
  const std::vector<int64_t> quantized = quantize(features);
  EncryptedBatch batch;
  batch.kind = EncryptedBatch::Kind::inputs;
  batch.model_id = spec_.model_id;
  batch.key_id = keys.key_id;
  batch.samples = features.rows;
  batch.width = spec_.input_width();
  batch.seeded = runtime::encrypt_inputs_seeded(spec_.encodings, keys.key, quantized, rng);
  batch.ciphertexts = tfhe::expand_ciphertexts(*batch.seeded);
  return batch;
}

Predictions Client::decrypt(const EncryptedBatch& results, const SecretKeys& keys) const {
  check_keys(keys);
  FHENN_CHECK(results.kind == EncryptedBatch::Kind::results, "these are encrypted inputs, not results: run the ",
              "server (fhenn run) on them first");
  FHENN_CHECK(results.model_id == spec_.model_id, "the results were computed for model ",
              results.model_id.substr(0, 12), ", this client part is model ", spec_.model_id.substr(0, 12));
  FHENN_CHECK(results.key_id == keys.key_id, "the results are encrypted under key ", results.key_id,
              ", the secret key is ", keys.key_id, ": decrypt with the key that encrypted the inputs");
  FHENN_CHECK(results.width == spec_.output_width(), "the results have ", results.width,
              " values per sample, the model outputs ", spec_.output_width());
  FHENN_CHECK(checked_mul(results.samples, results.width, "the results' samples x width") ==
                  results.ciphertexts.size(),
              "the results hold ", results.ciphertexts.size(), " ciphertexts, not ", results.samples, " samples of ",
              results.width);
  auto outputs = runtime::decrypt_outputs(spec_.encodings, keys.key, results.ciphertexts);
  return predictions_from_outputs(std::move(outputs), results.samples);
}

Predictions Client::predictions_from_outputs(std::vector<int64_t> outputs, size_t samples) const {
  const size_t width = spec_.output_width();
  FHENN_CHECK(outputs.size() == checked_mul(samples, width, "samples x outputs"), "expected ", samples, " x ", width,
              " output integers, got ", outputs.size());
  Predictions p;
  p.outputs = std::move(outputs);
  for (size_t s = 0; s < samples; ++s) {
    const auto scores = spec_.quantization.dequantize(std::span(p.outputs).subspan(s * width, width));
    if (s == 0) p.scores = Matrix(samples, scores.size());
    std::copy(scores.begin(), scores.end(), p.scores.row(s).begin());
    p.classes.push_back(compiler::predicted_class(scores));
  }
  return p;
}

}  // namespace fhenn::deploy
