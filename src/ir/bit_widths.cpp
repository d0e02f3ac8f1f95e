// Bit-width report of a circuit (see bit_widths.hpp).
#include "fhenn/ir/bit_widths.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::ir {
namespace {

// Per node: the number of tables of the lookup that reads it (0 when no lookup does; the fewest when several do:
// the coarsest sharing has the widest spans).
std::vector<size_t> lookup_operand_tables(const Circuit& circuit) {
  std::vector<size_t> tables(circuit.nodes().size(), 0);
  for (const Node& node : circuit.nodes()) {
    if (const auto* lookup = std::get_if<TableLookupOp>(&node.op)) {
      size_t& count = tables[node.operands[0]];
      count = count == 0 ? lookup->tables.size() : std::min(count, lookup->tables.size());
    }
  }
  return tables;
}

// The widest span over the elements that share a table: the table index bits when each table is read from the
// smallest value of its elements (per element, per channel or one for all).
int widest_table_span_bits(std::span<const Range> elements, size_t tables) {
  const size_t per_table = elements.size() / tables;
  int bits = 0;
  for (size_t t = 0; t < tables; ++t) {
    Range all = elements[t * per_table];
    for (size_t i = t * per_table; i < (t + 1) * per_table; ++i) all = all.hull(elements[i]);
    bits = std::max(bits, unsigned_bits(static_cast<uint64_t>(all.max - all.min)));
  }
  return bits;
}

std::string range_text(const Range& r) {
  return concat("[", r.min, ", ", r.max, "]");
}

}  // namespace

BitWidthReport bit_width_report(const Circuit& circuit, const SeenRanges& seen) {
  FHENN_CHECK(seen.samples() > 0, "bit widths need at least one sample of the input set");
  const auto worst = guaranteed_element_ranges(circuit);
  const auto lookup_tables = lookup_operand_tables(circuit);
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
                   lookup_tables[id] > 0,
                   traits(node.kind()).is_integer_node};
    if (w.is_integer_node) {
      report.accumulator_bits = std::max(report.accumulator_bits, w.seen_bits);
      report.worst_case_accumulator_bits = std::max(report.worst_case_accumulator_bits, w.worst_case_bits);
    }
    if (w.feeds_table_lookup) {
      // A lookup reads its operand's values only, not a dot product's intermediate sum.
      report.max_lookup_input_bits = std::max(report.max_lookup_input_bits, w.seen.bits());
      report.worst_case_max_lookup_input_bits = std::max(report.worst_case_max_lookup_input_bits, w.worst_case.bits());
      w.seen_index_bits = widest_table_span_bits(seen.element_ranges(id), lookup_tables[id]);
      w.worst_case_index_bits = widest_table_span_bits(worst[id], lookup_tables[id]);
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
