// libFuzzer target: the compiled-model loader (compiler::deserialize_compiled: circuit, client, linear-op facts).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kCompiledKinds, [](std::span<const uint8_t> bytes, unsigned) {
    fhenn::compiler::deserialize_compiled(bytes, "fuzz compiled model");
  });
}
