// The server of an encrypted model (see server.hpp).
#include "fhenn/deploy/server.hpp"

#include <memory>

#include "fhenn/common/error.hpp"
#include "fhenn/runtime/encrypted.hpp"

namespace fhenn::deploy {

Server::Server(ServerPart part) : part_(std::move(part)) {}

EncryptedBatch Server::run(const EncryptedBatch& inputs, const EvaluationKeys& keys, int threads,
                           bool show_progress) const {
  FHENN_CHECK(inputs.kind == EncryptedBatch::Kind::inputs, "these are results, not encrypted inputs");
  check_evaluation_keys_model(keys.model_id, part_);
  FHENN_CHECK(inputs.model_id == part_.model_id, "the inputs were encrypted for model ",
              inputs.model_id.substr(0, 12), ", this server part is model ", part_.model_id.substr(0, 12));
  FHENN_CHECK(inputs.key_id == keys.key_id, "the inputs are encrypted under key ", inputs.key_id,
              " but the evaluation keys are key ", keys.key_id, ": send the evaluation keys of the same keygen");
  FHENN_CHECK(inputs.width == part_.circuit.input_width(), "the inputs have ", inputs.width,
              " values per sample, the model takes ", part_.circuit.input_width());
  FHENN_CHECK(keys.key.params.same_keys_as(part_.plan.params), "the evaluation keys are for parameter set '",
              keys.key.params.name, "', this model runs on '", part_.plan.params.name, "'");
  // The sample count is derived from the ciphertexts, never taken from the batch's own field.
  const size_t width = part_.circuit.input_width();
  FHENN_CHECK(!inputs.ciphertexts.empty() && inputs.ciphertexts.size() % width == 0, "the inputs hold ",
              inputs.ciphertexts.size(), " ciphertexts: not a whole number of samples of ", width);
  const size_t samples = inputs.ciphertexts.size() / width;
  std::unique_ptr<ProgressBar> progress;
  if (show_progress) progress = std::make_unique<ProgressBar>("encrypted run", samples * part_.plan.bootstraps_per_sample);
  const runtime::EncryptedEvaluator evaluator(part_.circuit, part_.plan, keys.key, threads);
  EncryptedBatch results;
  results.kind = EncryptedBatch::Kind::results;
  results.model_id = part_.model_id;
  results.key_id = keys.key_id;
  results.samples = samples;
  results.width = part_.circuit.output_width();
  results.ciphertexts = evaluator.evaluate(inputs.ciphertexts, progress.get());
  if (progress) progress->finish();
  return results;
}

}  // namespace fhenn::deploy
