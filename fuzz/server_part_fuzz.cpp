// libFuzzer target: the server part loader (deploy::deserialize_server_part: circuit and engine plan).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fhenn::fuzz::run_loader(data, size, fhenn::fuzz::kServerPartKinds,
                                 [](std::span<const uint8_t> bytes, unsigned) {
                                   fhenn::deploy::deserialize_server_part(bytes, "fuzz server part");
                                 });
}
