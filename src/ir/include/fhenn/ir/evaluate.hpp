// Evaluating a circuit on integers, op by op: the kernels every executor in the clear shares.
#pragma once

#include <cstdint>
#include <span>

#include "fhenn/ir/circuit.hpp"

namespace fhenn::ir {

// (C2): out[i] = sum_j W[i][j] * operand[j] + c[i].
void evaluate_dot_product(const DotProductOp& op, std::span<const int64_t> operand, std::span<int64_t> out);
// (C3): out[i] = round_msbs(operand[i], shift).
void evaluate_round(const RoundOp& op, std::span<const int64_t> operand, std::span<int64_t> out);
// (C4): out[i] = T_t(operand[i]) with t = table_index(i) (saturating at the table's ends).
void evaluate_table_lookup(const TableLookupOp& op, std::span<const int64_t> operand, std::span<int64_t> out);

// Evaluates node `id` (any op but an input) of one sample in place, its operands already in `node_values`.
void evaluate_node(const Circuit& circuit, NodeId id, std::span<int64_t> node_values);

// Evaluates every node of one sample: `inputs` (circuit.input_width() values, the input nodes' values in
// order) into `node_values` (circuit.node_values_size(), laid out by Circuit::value_offset). No allocation.
// Inputs are assumed to lie in their declared ranges (the executor checks them).
void evaluate_nodes(const Circuit& circuit, std::span<const int64_t> inputs, std::span<int64_t> node_values);

// Copies the output nodes' values (in order) out of an evaluated sample.
void gather_outputs(const Circuit& circuit, std::span<const int64_t> node_values, std::span<int64_t> outputs);

// The values of node `id` inside a sample's node values.
inline std::span<const int64_t> node_slice(const Circuit& circuit, NodeId id, std::span<const int64_t> node_values) {
  return node_values.subspan(circuit.value_offset(id), circuit.node(id).width);
}

}  // namespace fhenn::ir
