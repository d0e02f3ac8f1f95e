// Compiling a model graph (graph.hpp) to the integer circuit: its given quantizers, and post-training quantization.
#pragma once

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/graph_ops.hpp"

namespace fhenn::compiler {

// Calibrates every tensor on `calibration` (one row per sample: the graph inputs' elements in order) with the
// float reference, then lowers op by op (GraphOp::lower). What a quantization-aware model gives is used as it is:
// the quantizer of a Quant node (for the lookup or the client input before it), a Gemm's or Conv's trained weight
// quantizer and rounding shift. The rest is post-training quantization: inputs asymmetrically with the
// model-input bits (per channel, see InputQuantization), weights symmetrically with the weight bits, every other
// lookup's output with the op-input bits, accumulators rounded to rounding_threshold_bits before a lookup.
// Throws fhenn::Error naming the node for what the circuit cannot hold.
CompiledModel compile_graph(const Graph& graph, const Matrix& calibration, const GraphCompileOptions& options);

// The same options for a graph (the input quantization as the PTQ options say, not the graph's default).
GraphCompileOptions graph_options(const PtqOptions& options);

}  // namespace fhenn::compiler
