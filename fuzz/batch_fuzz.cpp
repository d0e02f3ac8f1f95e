// libFuzzer target: the encrypted batch loader (deploy::deserialize_batch), inputs or results under the parameter
// set the input's variant picks.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using fhenn::deploy::EncryptedBatch;
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kBatchKinds, [](std::span<const uint8_t> bytes, unsigned v) {
    const auto kind = (v & 1) == 0 ? EncryptedBatch::Kind::inputs : EncryptedBatch::Kind::results;
    fhenn::deploy::deserialize_batch(bytes, kind, fhenn::fuzz::parameters_for(v >> 1), "fuzz encrypted batch");
  });
}
