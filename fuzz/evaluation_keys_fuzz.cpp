// libFuzzer target: the evaluation key loader (deploy::deserialize_evaluation_keys: seed-compressed TFHE keys),
// for a server part of model kFuzzModelId on the parameter set the input's variant picks.
#include "targets.hpp"

namespace {

void load(std::span<const uint8_t> bytes, unsigned variant) {
  fhenn::deploy::ServerPart part;
  part.model_id = fhenn::fuzz::kFuzzModelId;
  part.plan.params = fhenn::fuzz::parameters_for(variant);
  fhenn::deploy::deserialize_evaluation_keys(bytes, part, "fuzz evaluation keys", 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kEvaluationKeysKinds, load);
}
