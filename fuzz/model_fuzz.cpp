// libFuzzer target: the trained-model loader (compiler::deserialize_model: float and QAT models, model graphs).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kModelKinds, [](std::span<const uint8_t> bytes, unsigned) {
    fhenn::compiler::deserialize_model(bytes, "fuzz model file");
  });
}
