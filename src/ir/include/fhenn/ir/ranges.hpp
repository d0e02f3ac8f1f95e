// Value ranges of circuit nodes: guaranteed worst-case ranges from the ops, and ranges seen on an input set.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fhenn/ir/circuit.hpp"

namespace fhenn::ir {

// Per node, per element: the range every value is guaranteed to lie in, given the inputs' declared ranges
// (rules of OpTraits::range_rule; formulas (R1)-(R4) of docs/circuit.md). Throws fhenn::Error naming the node
// when a value could leave 62 bits. Expects nodes that pass the structural checks of verify_circuit.
std::vector<std::vector<Range>> worst_case_element_ranges(const std::vector<Node>& nodes);

// Per node, per element: the exact ranges over every input the input nodes' declared ranges allow, found by
// evaluating each of them, when there are at most `max_inputs` (two features quantized to 2 bits: 16) and their
// evaluation costs at most about a second (2^30 weights and node elements in all); nullopt otherwise. As strong a
// guarantee as worst_case_element_ranges and never wider (interval bounds ignore that a layer's neurons see the same
// inputs).
std::optional<std::vector<std::vector<Range>>> exhaustive_element_ranges(const Circuit& circuit,
                                                                         uint64_t max_inputs = uint64_t{1} << 16);

// The tightest guaranteed ranges: exhaustive_element_ranges when the input space is small enough, else
// worst_case_element_ranges.
std::vector<std::vector<Range>> guaranteed_element_ranges(const Circuit& circuit);

// A node's range over all its elements, as the reference measures a tensor (min and max over every element).
// For a dot product the integer sum before its constant is a value the node computes too (an encrypted
// intermediate that the message space must hold), so `bits` covers both.
struct NodeRange {
  Range values;
  Range before_constant;  // dot product: sum_j W[i][j] * x[j] alone; others: equal to `values`
  int bits() const;
};
NodeRange node_range(const Node& node, std::span<const Range> element_ranges);

// Per-element minima and maxima of every node's values over the samples observed so far.
class SeenRanges {
 public:
  explicit SeenRanges(const Circuit& circuit);
  // `node_values`: one sample's values of every node, laid out as Circuit::value_offset says.
  void observe(std::span<const int64_t> node_values);
  // Merges another recorder's observations (e.g. one per worker thread).
  void merge(const SeenRanges& other);
  size_t samples() const { return samples_; }
  std::span<const Range> element_ranges(NodeId id) const;

 private:
  const Circuit* circuit_;
  std::vector<Range> ranges_;  // flat, like the node values
  size_t samples_ = 0;
};

}  // namespace fhenn::ir
