// libFuzzer target: the client part loader (deploy::deserialize_client_part).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kClientPartKinds,
                                 [](std::span<const uint8_t> bytes, unsigned) {
                                   fhenn::deploy::deserialize_client_part(bytes, "fuzz client part");
                                 });
}
