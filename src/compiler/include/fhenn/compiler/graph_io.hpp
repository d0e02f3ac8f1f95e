// Saving and loading model graphs (graph.hpp) as sealed artifacts: what `fhenn train --arch` writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fhenn/compiler/graph.hpp"

namespace fhenn::compiler {

inline constexpr const char* kModelGraphArtifactKind = "fhenn-model-graph";
inline constexpr uint32_t kModelGraphFormatVersion = 1;

// Refuses (fhenn::Error) a graph that Graph::build refuses, before writing it.
std::vector<uint8_t> serialize_model_graph(const ModelGraph& graph);
// Every count is checked against a limit and the bytes left, and all weights and attributes together against
// ir::kMaxCircuitElements, before anything is allocated; the graph read is then checked by Graph::build. Throws
// fhenn::Error naming `what` for a truncated, corrupted or invalid file.
ModelGraph deserialize_model_graph(std::span<const uint8_t> bytes, const std::string& what);

}  // namespace fhenn::compiler
