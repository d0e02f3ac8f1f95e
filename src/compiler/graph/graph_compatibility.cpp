// Precision limits of compiled model graphs: lookup indices and outputs against the engine's limits, with fixes.
#include "fhenn/compiler/graph_compatibility.hpp"

#include "fhenn/common/error.hpp"

namespace fhenn::compiler {
namespace {

const char* measure_text(RangeMeasure measure) {
  return measure == RangeMeasure::seen ? "seen on the input set" : "worst case";
}

// The fixes for a lookup operand of kind `kind` that reads `bits` > `limit`, cheapest first (rounding drops only
// low bits of an accumulator; fewer bits coarsen every value).
std::string lookup_fix(ir::OpKind kind, int bits, int limit, bool rounded_by_the_lowering) {
  switch (kind) {
    case ir::OpKind::round:
      return concat("set rounding_threshold_bits to ", limit, " or less (the rounding keeps ", bits, " bits)");
    case ir::OpKind::input:
      return concat("lower the model-input bits to ", limit, " or less");
    case ir::OpKind::table_lookup:
      return concat("lower the activation (op-input) bits to ", limit, " or less");
    default:
      // dot_product, conv2d, weighted_sum, and moves of them: the lowering rounds accumulators before a lookup
      // (max pooling's comparisons it never rounds: they must stay exact).
      return rounded_by_the_lowering
                 ? concat("set rounding_threshold_bits to ", limit, " or less, or lower the weight or activation bits")
                 : std::string("lower the activation (op-input) bits by ") + std::to_string(bits - limit);
  }
}

}  // namespace

std::vector<PrecisionProblem> find_graph_precision_problems(const CompiledGraph& compiled,
                                                            const PrecisionLimits& limits) {
  const ir::Circuit& circuit = compiled.circuit;
  const bool seen = limits.measure == RangeMeasure::seen;
  std::vector<PrecisionProblem> problems;
  for (ir::NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const ir::Node& node = circuit.node(id);
    if (node.kind() != ir::OpKind::table_lookup && node.kind() != ir::OpKind::output) continue;
    const ir::NodeId operand_id = node.operands.at(0);
    const ir::Node& operand = circuit.node(operand_id);
    const ir::NodeBitWidth& width = compiled.report.nodes.at(operand_id);
    if (node.kind() == ir::OpKind::table_lookup) {
      const int bits = seen ? width.seen_index_bits : width.worst_case_index_bits;
      if (bits <= limits.lookup_input_bits) continue;
      // Max pooling's comparisons (its ".difference" sums) stay exact: the lowering never rounds them.
      const bool comparison = operand.name.ends_with(".difference");
      problems.push_back({node.name, operand.name, bits, limits.lookup_input_bits,
                          concat("node '", operand.name, "' (read by lookup '", node.name, "') needs ", bits, " bits (",
                                 measure_text(limits.measure), "), the lookup limit is ", limits.lookup_input_bits,
                                 "; ", lookup_fix(operand.kind(), bits, limits.lookup_input_bits, !comparison))});
    } else {
      const int bits = seen ? width.seen_bits : width.worst_case_bits;
      if (bits <= limits.output_bits) continue;
      problems.push_back({node.name, operand.name, bits, limits.output_bits,
                          concat("output '", node.name, "' ('", operand.name, "') needs ", bits, " bits (",
                                 measure_text(limits.measure), "), the limit is ", limits.output_bits,
                                 "; lower the weight or activation bits of the layer before it")});
    }
  }
  return problems;
}

void check_graph_precision(const CompiledGraph& compiled, const PrecisionLimits& limits) {
  throw_precision_problems(find_graph_precision_problems(compiled, limits));
}

}  // namespace fhenn::compiler
