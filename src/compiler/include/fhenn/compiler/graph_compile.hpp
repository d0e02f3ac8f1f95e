// Compiling a model graph (graph.hpp) to the integer circuit by post-training quantization.
#pragma once

#include <span>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/graph_ops.hpp"
#include "fhenn/ir/bit_widths.hpp"
#include "fhenn/ir/circuit.hpp"

namespace fhenn::compiler {

struct CompiledGraph {
  ir::Circuit circuit;
  ClientQuantization client;  // per input feature its quantizer, per output element its dequantization
  ir::BitWidthReport report;  // seen on the calibration set, and worst case
};

// Calibrates every tensor on `calibration` (one row per sample: the graph inputs' elements in order) with the
// float reference, then lowers op by op (GraphOp::lower): inputs quantized asymmetrically with the model-input
// bits, weights symmetrically with the weight bits, every lookup's output with the op-input bits, accumulators
// rounded to rounding_threshold_bits before a lookup. Throws fhenn::Error naming the node for what the circuit
// cannot hold.
CompiledGraph compile_graph_ptq(const Graph& graph, const Matrix& calibration, const GraphCompileOptions& options);

// Bit widths of the compiled circuit seen on `features` (quantized by the client), with the worst case.
ir::BitWidthReport measure_graph_bit_widths(const CompiledGraph& compiled, const Matrix& features);

// One sample through the client's quantization, the clear circuit and the client's dequantization.
std::vector<double> run_compiled_graph_clear(const CompiledGraph& compiled, std::span<const double> features);

}  // namespace fhenn::compiler
