// Embedding an engine plan in deployment artifacts (the server and client parts of a compiled model).
#pragma once

#include "fhenn/common/bytes.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/runtime/engine_plan.hpp"

namespace fhenn::runtime {

void write_plan(ByteWriter& out, const EnginePlan& plan);
// Reads what write_plan wrote and checks it against `circuit` (node count, lookups, widths); throws
// fhenn::Error naming in.what() when the bytes are inconsistent.
EnginePlan read_plan(ByteReader& in, const ir::Circuit& circuit);

}  // namespace fhenn::runtime
