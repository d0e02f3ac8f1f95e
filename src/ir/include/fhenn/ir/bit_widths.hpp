// Bit widths of a circuit's integers: per node, seen on an input set (the reference's measure) and worst case.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fhenn/ir/circuit.hpp"
#include "fhenn/ir/ranges.hpp"

namespace fhenn::ir {

struct NodeBitWidth {
  NodeId node = 0;
  std::string name;
  OpKind kind = OpKind::input;
  size_t width = 0;   // elements
  Range seen;         // min and max over every element and every observed sample
  int seen_bits = 0;  // NodeRange::bits of the seen range (a dot product's sum before its constant too)
  Range worst_case;   // guaranteed for every input in the declared ranges
  int worst_case_bits = 0;
  bool feeds_table_lookup = false;  // the node is a table lookup's operand: its width is the lookup's precision
  bool is_integer_node = true;      // counts for the accumulator size (OpTraits::is_integer_node)
  // A lookup operand's widest span: max over the groups of elements that share a table (one element, a channel,
  // or all) of unsigned_bits(max - min), seen and worst case (0 for other nodes). The encrypted runtime indexes
  // each table from the smallest value of its elements, so this, not the
  // node-wide signed width, is what its bootstraps read (docs/encrypted.md (E3)).
  int seen_index_bits = 0;
  int worst_case_index_bits = 0;
};

// (W1)-(W3) of docs/circuit.md. accumulator_bits is the reference's "accumulator size": the largest width of
// any integer node, from the values seen on the input set; the worst-case twin bounds it for every input.
// max_lookup_input_bits: the largest node-wide width of a table lookup's operand (the reference's measure);
// max_lookup_index_bits: the largest per-element span a lookup reads (the encrypted bootstrap's precision).
struct BitWidthReport {
  size_t samples = 0;
  std::vector<NodeBitWidth> nodes;  // in circuit order, output nodes included (not integer nodes)
  int accumulator_bits = 0;
  int worst_case_accumulator_bits = 0;
  int max_lookup_input_bits = 0;
  int worst_case_max_lookup_input_bits = 0;
  int max_lookup_index_bits = 0;
  int worst_case_max_lookup_index_bits = 0;
  bool operator==(const BitWidthReport&) const = default;
};
inline bool operator==(const NodeBitWidth& a, const NodeBitWidth& b) {
  return a.node == b.node && a.name == b.name && a.kind == b.kind && a.width == b.width && a.seen == b.seen &&
         a.seen_bits == b.seen_bits && a.worst_case == b.worst_case && a.worst_case_bits == b.worst_case_bits &&
         a.feeds_table_lookup == b.feeds_table_lookup && a.is_integer_node == b.is_integer_node &&
         a.seen_index_bits == b.seen_index_bits && a.worst_case_index_bits == b.worst_case_index_bits;
}

// Builds the report from the ranges seen on at least one sample; throws fhenn::Error when none was observed.
BitWidthReport bit_width_report(const Circuit& circuit, const SeenRanges& seen);

// A table: node, op, elements, seen range and bits, worst-case range and bits, then the two summaries.
std::string format_bit_width_report(const BitWidthReport& report);

}  // namespace fhenn::ir
