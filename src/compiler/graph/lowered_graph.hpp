// Inside the graph compiler: calibration and lowering as separate steps (what the automatic rounding repeats).
#pragma once

#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/graph_ops.hpp"
#include "fhenn/quant/ptq.hpp"

namespace fhenn::compiler {

// Every tensor's minimum and maximum over the calibration set, from the float reference.
std::vector<quant::TensorStatistics> calibrate_graph(const Graph& graph, const Matrix& calibration);

struct LoweredGraph {
  CompiledModel compiled;
  std::vector<RoundedAccumulator> accumulators;  // the accumulators lookups read (LoweringContext)
};

// compile_graph on given calibration statistics, options.auto_rounding ignored; the bit-width report is measured
// only with `measure_report` (a trial circuit needs none).
LoweredGraph lower_graph(const Graph& graph, const Matrix& calibration,
                         const std::vector<quant::TensorStatistics>& statistics, const GraphCompileOptions& options,
                         bool measure_report);

// compile_graph with options.auto_rounding set (auto_rounding.cpp).
CompiledModel compile_graph_auto_rounding(const Graph& graph, const Matrix& calibration,
                                          const GraphCompileOptions& options);

}  // namespace fhenn::compiler
