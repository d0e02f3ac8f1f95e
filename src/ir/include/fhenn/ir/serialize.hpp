// (De)serialization of circuits: a sealed artifact (magic, kind, format version, SHA-256) or an embedded part.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fhenn/common/bytes.hpp"
#include "fhenn/ir/circuit.hpp"

namespace fhenn::ir {

inline constexpr const char* kCircuitArtifactKind = "fhenn-circuit";
inline constexpr uint32_t kCircuitFormatVersion =
    2;  // 2: shapes and the convolution, sum, reshape, concat and slice ops

// The circuit's nodes, for embedding in another artifact (e.g. a compiled model).
void write_circuit(ByteWriter& out, const Circuit& circuit);
// Reads what write_circuit wrote and verifies it (verify_circuit); throws fhenn::Error naming in.what().
Circuit read_circuit(ByteReader& in);

// A stand-alone sealed circuit.
std::vector<uint8_t> serialize_circuit(const Circuit& circuit);
// Throws fhenn::Error naming `what` for a wrong kind or version, truncated, corrupted or inconsistent bytes.
Circuit deserialize_circuit(std::span<const uint8_t> bytes, const std::string& what);

}  // namespace fhenn::ir
