// libFuzzer target: the secret key loader (deploy::deserialize_secret_keys, the TFHE client key inside).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kSecretKeysKinds,
                                 [](std::span<const uint8_t> bytes, unsigned) {
                                   fhenn::deploy::deserialize_secret_keys(bytes, "fuzz secret key file");
                                 });
}
