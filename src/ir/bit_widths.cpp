// Bit-width report of a circuit (see bit_widths.hpp).
#include "fhenn/ir/bit_widths.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::ir {
namespace {

std::vector<bool> lookup_operands(const Circuit& circuit) {
  std::vector<bool> feeds(circuit.nodes().size(), false);
  for (const Node& node : circuit.nodes()) {
    if (node.kind() == OpKind::table_lookup) feeds[node.operands[0]] = true;
  }
  return feeds;
}

// The widest element span: the table index bits when each element is read from its own minimum.
int widest_element_span_bits(std::span<const Range> elements) {
  int bits = 0;
  for (const Range& r : elements) bits = std::max(bits, unsigned_bits(static_cast<uint64_t>(r.max - r.min)));
  return bits;
}

std::string range_text(const Range& r) {
  return concat("[", r.min, ", ", r.max, "]");
}

}  // namespace

BitWidthReport bit_width_report(const Circuit& circuit, const SeenRanges& seen) {
  FHENN_CHECK(seen.samples() > 0, "bit widths need at least one sample of the input set");
  const auto worst = guaranteed_element_ranges(circuit);
  const auto feeds = lookup_operands(circuit);
  BitWidthReport report;
  report.samples = seen.samples();
  for (NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const Node& node = circuit.node(id);
    const NodeRange seen_range = node_range(node, seen.element_ranges(id));
    const NodeRange worst_range = node_range(node, worst[id]);
    NodeBitWidth w{id,
                   node.name,
                   node.kind(),
                   node.width,
                   seen_range.values,
                   seen_range.bits(),
                   worst_range.values,
                   worst_range.bits(),
                   feeds[id],
                   traits(node.kind()).is_integer_node};
    if (w.is_integer_node) {
      report.accumulator_bits = std::max(report.accumulator_bits, w.seen_bits);
      report.worst_case_accumulator_bits = std::max(report.worst_case_accumulator_bits, w.worst_case_bits);
    }
    if (w.feeds_table_lookup) {
      // A lookup reads its operand's values only, not a dot product's intermediate sum.
      report.max_lookup_input_bits = std::max(report.max_lookup_input_bits, w.seen.bits());
      report.worst_case_max_lookup_input_bits = std::max(report.worst_case_max_lookup_input_bits, w.worst_case.bits());
      w.seen_index_bits = widest_element_span_bits(seen.element_ranges(id));
      w.worst_case_index_bits = widest_element_span_bits(worst[id]);
      report.max_lookup_index_bits = std::max(report.max_lookup_index_bits, w.seen_index_bits);
      report.worst_case_max_lookup_index_bits =
          std::max(report.worst_case_max_lookup_index_bits, w.worst_case_index_bits);
    }
    report.nodes.push_back(std::move(w));
  }
  return report;
}

std::string format_bit_width_report(const BitWidthReport& report) {
  std::ostringstream out;
  out << "bit widths seen on " << report.samples << " samples, and worst case over the declared input ranges\n";
  out << std::left << std::setw(24) << "node" << std::setw(14) << "op" << std::setw(8) << "size" << std::setw(26)
      << "seen range" << std::setw(6) << "bits" << std::setw(30) << "worst-case range"
      << "bits\n";
  for (const NodeBitWidth& w : report.nodes) {
    if (!w.is_integer_node) continue;
    out << std::left << std::setw(24) << w.name << std::setw(14) << traits(w.kind).name << std::setw(8) << w.width
        << std::setw(26) << range_text(w.seen) << std::setw(6) << w.seen_bits << std::setw(30)
        << range_text(w.worst_case) << w.worst_case_bits << (w.feeds_table_lookup ? "  (lookup input)" : "") << "\n";
  }
  out << "accumulator size (largest integer, seen): " << report.accumulator_bits << " bits (worst case "
      << report.worst_case_accumulator_bits << ")\n";
  out << "largest table lookup input (seen): " << report.max_lookup_input_bits << " bits (worst case "
      << report.worst_case_max_lookup_input_bits << ")\n";
  out << "largest table index read per element (seen): " << report.max_lookup_index_bits << " bits (worst case "
      << report.worst_case_max_lookup_index_bits << ")\n";
  return out.str();
}

}  // namespace fhenn::ir
