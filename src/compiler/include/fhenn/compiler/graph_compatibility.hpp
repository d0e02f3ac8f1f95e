// What the engine can run, for compiled model graphs: every lookup's index and every output within the limits,
// each problem named by its node with the fixes, cheapest first.
#pragma once

#include <vector>

#include "fhenn/compiler/compatibility.hpp"
#include "fhenn/compiler/graph_compile.hpp"

namespace fhenn::compiler {

// Every table lookup must read at most limits.lookup_input_bits (its operand's widest span over the elements that
// share a table: what the bootstrap reads, docs/encrypted.md (E3)) and every output integer fit in
// limits.output_bits, measured as limits.measure. Each problem names the node, what reads it, the width, the
// limit and the fixes its kind allows: rounding_threshold_bits for an accumulator or a rounded one, fewer weight
// or activation bits, fewer model-input bits for a lookup of the input itself.
std::vector<PrecisionProblem> find_graph_precision_problems(const CompiledGraph& compiled,
                                                            const PrecisionLimits& limits);

// Throws fhenn::Error with every problem's message, one per line, when there is any.
void check_graph_precision(const CompiledGraph& compiled, const PrecisionLimits& limits);

}  // namespace fhenn::compiler
