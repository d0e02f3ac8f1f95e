// A readable listing of a circuit (see printer.hpp).
#include "fhenn/ir/printer.hpp"

#include <algorithm>
#include <sstream>

#include "fhenn/ir/ranges.hpp"

namespace fhenn::ir {
namespace {

void print_values(std::ostringstream& out, const int64_t* values, size_t count) {
  out << "[";
  for (size_t k = 0; k < count; ++k) out << (k == 0 ? "" : " ") << values[k];
  out << "]";
}

void print_dot_product(std::ostringstream& out, const Node& node, const DotProductOp& op, size_t operand_width,
                       const PrintOptions& options) {
  const auto non_zero = std::count_if(op.weights.begin(), op.weights.end(), [](int64_t w) { return w != 0; });
  const auto [lo, hi] = std::minmax_element(op.weights.begin(), op.weights.end());
  out << "  weights " << node.width << "x" << operand_width << ", " << non_zero << " non-zero in [" << *lo << ", "
      << *hi << "]" << (op.constants.empty() ? ", no constants" : ", with constants");
  if (!options.weights) return;
  for (size_t i = 0; i < node.width; ++i) {
    out << "\n      row " << i << ": ";
    print_values(out, op.weights.data() + i * operand_width, operand_width);
    if (!op.constants.empty()) out << " + " << op.constants[i];
  }
}

void print_table_lookup(std::ostringstream& out, const TableLookupOp& op, const PrintOptions& options) {
  size_t entries = 0;
  int64_t lo = op.tables[0].values[0];
  int64_t hi = lo;
  for (const LookupTable& t : op.tables) {
    entries += t.values.size();
    const auto [a, b] = std::minmax_element(t.values.begin(), t.values.end());
    lo = std::min(lo, *a);
    hi = std::max(hi, *b);
  }
  out << "  " << op.tables.size() << " tables, " << entries << " entries in all, values in [" << lo << ", " << hi
      << "]";
  if (!options.tables) return;
  for (size_t i = 0; i < op.tables.size(); ++i) {
    const LookupTable& t = op.tables[i];
    out << "\n      table " << i << " on [" << t.input_min << ", " << t.input_max() << "]: ";
    print_values(out, t.values.data(), t.values.size());
  }
}

void print_conv2d(std::ostringstream& out, const Conv2dOp& op, const PrintOptions& options) {
  const auto non_zero = std::count_if(op.kernel.begin(), op.kernel.end(), [](int64_t w) { return w != 0; });
  const auto [lo, hi] = std::minmax_element(op.kernel.begin(), op.kernel.end());
  out << "  kernel " << op.kernel_h << "x" << op.kernel_w << ", stride " << op.stride_h << "x" << op.stride_w
      << ", padding " << op.pad_top << "," << op.pad_left << "," << op.pad_bottom << "," << op.pad_right;
  if (op.pad_values.size() == 1) {
    out << " (value " << op.pad_values[0] << ")";
  } else {
    const auto [pad_lo, pad_hi] = std::minmax_element(op.pad_values.begin(), op.pad_values.end());
    out << " (values " << *pad_lo << ".." << *pad_hi << " per channel)";
  }
  if (op.dilation_h != 1 || op.dilation_w != 1) out << ", dilation " << op.dilation_h << "x" << op.dilation_w;
  if (op.groups != 1) out << ", " << op.groups << " groups";
  out << ", " << op.kernel.size() << " weights, " << non_zero << " non-zero in [" << *lo << ", " << *hi << "]"
      << (op.constants.empty() ? ", no constants" : ", with constants");
  if (!options.weights) return;
  out << "\n      kernel: ";
  print_values(out, op.kernel.data(), op.kernel.size());
  if (!op.constants.empty()) {
    out << "\n      constants: ";
    print_values(out, op.constants.data(), op.constants.size());
  }
}

void print_operands(std::ostringstream& out, const Node& node) {
  if (node.operands.empty()) return;
  out << " (";
  for (size_t k = 0; k < node.operands.size(); ++k) out << (k == 0 ? "%" : ", %") << node.operands[k];
  out << ")";
}

}  // namespace

std::string print_circuit(const Circuit& circuit, const PrintOptions& options) {
  std::ostringstream out;
  out << "circuit: " << circuit.nodes().size() << " nodes, " << circuit.input_width() << " inputs, "
      << circuit.output_width() << " outputs\n";
  const auto worst = guaranteed_element_ranges(circuit);
  for (NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const Node& node = circuit.node(id);
    out << "%" << id << " = " << traits(node.kind()).name << " " << node.name << " [" << shape_text(node.shape) << "]";
    print_operands(out, node);
    const Range r = node_range(node, worst[id]).values;
    out << "  range [" << r.min << ", " << r.max << "]";
    const size_t operand_width = node.operands.empty() ? 0 : circuit.node(node.operands[0]).width;
    if (const auto* dot = std::get_if<DotProductOp>(&node.op))
      print_dot_product(out, node, *dot, operand_width, options);
    if (const auto* round = std::get_if<RoundOp>(&node.op)) out << "  drops " << round->shift << " low bits";
    if (const auto* lookup = std::get_if<TableLookupOp>(&node.op)) print_table_lookup(out, *lookup, options);
    if (const auto* conv = std::get_if<Conv2dOp>(&node.op)) print_conv2d(out, *conv, options);
    if (const auto* sum = std::get_if<WeightedSumOp>(&node.op)) {
      out << "  multipliers ";
      print_values(out, sum->multipliers.data(), sum->multipliers.size());
      if (sum->constant != 0) out << " + " << sum->constant;
    }
    if (const auto* concat = std::get_if<ConcatOp>(&node.op)) out << "  along axis " << concat->axis;
    if (const auto* slice = std::get_if<SliceOp>(&node.op)) {
      out << "  starts " << shape_text(slice->starts) << ", steps " << shape_text(slice->steps);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace fhenn::ir
