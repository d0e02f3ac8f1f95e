// Lowering a circuit to the TFHE engine (see engine_plan.hpp and docs/encrypted.md).
#include "fhenn/runtime/engine_plan.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "fhenn/tfhe/security.hpp"

namespace fhenn::runtime {
namespace {

constexpr int kEngineMaxIndexBits = 8;
constexpr int kMaxEncodingBits = 40;  // keeps the bootstrap noise far below the smallest encoded unit

using ElementRanges = std::vector<std::vector<ir::Range>>;

ElementRanges element_ranges(const ir::Circuit& circuit, const PlanOptions& options, const ir::SeenRanges* seen) {
  if (options.ranges == RangeSource::worst_case) return ir::guaranteed_element_ranges(circuit);
  FHENN_CHECK(seen != nullptr && seen->samples() > 0,
              "encoding from seen ranges needs an input set: pass the ranges observed on it");
  ElementRanges ranges(circuit.nodes().size());
  for (ir::NodeId id = 0; id < circuit.nodes().size(); ++id) {
    const auto observed = seen->element_ranges(id);
    ranges[id].assign(observed.begin(), observed.end());
  }
  return ranges;
}

ir::Range hull(const std::vector<ir::Range>& ranges) {
  ir::Range all = ranges.front();
  for (const auto& r : ranges) all = all.hull(r);
  return all;
}

// Records the encoding a consumer needs from `node`; two consumers that need different ones are refused.
void require_encoding(const ir::Circuit& circuit, std::vector<int>& encoding, ir::NodeId node, int bits) {
  FHENN_CHECK(bits <= kMaxEncodingBits, "node '", circuit.node(node).name, "' needs a ", bits,
              "-bit encoding; the engine keeps values within ", kMaxEncodingBits,
              " bits: lower the bit widths or add rounding");
  if (encoding[node] == 0) {
    encoding[node] = bits;
    return;
  }
  FHENN_CHECK(encoding[node] == bits, "node '", circuit.node(node).name, "' feeds consumers that need ", encoding[node],
              "-bit and ", bits, "-bit encodings; the encrypted runtime supports one encoding ",
              "per value: give each lookup its own dot product");
}

double squared_row_norm(const ir::DotProductOp& op, size_t operand_width, size_t row) {
  double sum = 0.0;
  for (size_t j = 0; j < operand_width; ++j) {
    const double w = static_cast<double>(op.weights[row * operand_width + j]);
    sum += w * w;
  }
  return sum;
}

LookupPlan plan_lookup(const ir::Circuit& circuit, ir::NodeId lookup_id, const ElementRanges& ranges) {
  const ir::Node& lookup = circuit.node(lookup_id);
  LookupPlan plan;
  plan.node = lookup_id;
  ir::NodeId operand = lookup.operands.at(0);
  if (circuit.node(operand).kind() == ir::OpKind::round) {
    plan.shift = std::get<ir::RoundOp>(circuit.node(operand).op).shift;
    plan.accumulator = circuit.node(operand).operands.at(0);
  } else {
    plan.accumulator = operand;
  }
  const ir::Node& accumulator = circuit.node(plan.accumulator);
  FHENN_CHECK(accumulator.kind() == ir::OpKind::dot_product || accumulator.kind() == ir::OpKind::input,
              "table lookup '", lookup.name, "' reads '", accumulator.name, "' (", ir::traits(accumulator.kind()).name,
              "); the encrypted runtime bootstraps dot products and inputs only");
  // The index range per element is the range of the lookup's operand (already rounded after a round node).
  const auto& index_ranges = ranges[operand];
  uint64_t widest_span = 0;
  for (size_t i = 0; i < lookup.width; ++i) {
    plan.index_min.push_back(index_ranges[i].min);
    widest_span = std::max(widest_span, static_cast<uint64_t>(index_ranges[i].max - index_ranges[i].min));
  }
  plan.index_bits = unsigned_bits(widest_span);
  FHENN_CHECK(plan.index_bits <= kEngineMaxIndexBits, "table lookup '", lookup.name, "' reads ", plan.index_bits,
              "-bit values (", widest_span + 1, " distinct inputs); the engine's lookups take at most ",
              kEngineMaxIndexBits, " bits: set rounding_threshold_bits <= ", kEngineMaxIndexBits,
              ", prune to fewer non-zero weights per neuron, or lower the weight/activation bits");
  for (size_t i = 0; i < lookup.width; ++i) {
    if (accumulator.kind() == ir::OpKind::dot_product) {
      const auto& op = std::get<ir::DotProductOp>(accumulator.op);
      const size_t operand_width = circuit.node(accumulator.operands.at(0)).width;
      const double norm = squared_row_norm(op, operand_width, i);
      plan.squared_norms.push_back(norm);
      plan.constant.push_back(norm == 0.0);
    } else {
      plan.squared_norms.push_back(1.0);
      plan.constant.push_back(false);
    }
  }
  return plan;
}

// Encodings from the consumers backwards (outputs decrypt signed, lookups read index_bits + shift, a dot
// product's operands share its encoding since sum_j W_ij (x_j Delta) = (sum_j W_ij x_j) Delta).
std::vector<int> plan_encodings(const ir::Circuit& circuit, const ElementRanges& ranges,
                                std::vector<LookupPlan>& lookups) {
  const auto& nodes = circuit.nodes();
  std::vector<int> encoding(nodes.size(), 0);
  for (size_t k = nodes.size(); k-- > 0;) {
    const auto id = static_cast<ir::NodeId>(k);
    const ir::Node& node = nodes[id];
    switch (node.kind()) {
      case ir::OpKind::output:
        require_encoding(circuit, encoding, node.operands[0], signed_encoding_bits(hull(ranges[node.operands[0]])));
        break;
      case ir::OpKind::table_lookup: {
        LookupPlan plan = plan_lookup(circuit, id, ranges);
        if (encoding[id] == 0) encoding[id] = signed_encoding_bits(hull(ranges[id]));
        plan.output_encoding_bits = encoding[id];
        require_encoding(circuit, encoding, plan.accumulator, plan.index_bits + plan.shift);
        lookups.push_back(std::move(plan));
        break;
      }
      case ir::OpKind::round: {
        bool feeds_only_lookups = true;
        for (const ir::Node& user : nodes) {
          for (ir::NodeId o : user.operands) {
            if (o == id && user.kind() != ir::OpKind::table_lookup) feeds_only_lookups = false;
          }
        }
        FHENN_CHECK(feeds_only_lookups, "round node '", node.name,
                    "' feeds something other than a table lookup; encrypted, rounding happens inside a lookup");
        break;
      }
      case ir::OpKind::dot_product:
        FHENN_CHECK(encoding[id] != 0, "dot product '", node.name, "' is never used");
        for (ir::NodeId o : node.operands) require_encoding(circuit, encoding, o, encoding[id]);
        break;
      case ir::OpKind::input:
        FHENN_CHECK(encoding[id] != 0, "input '", node.name, "' is never used");
        break;
    }
  }
  std::reverse(lookups.begin(), lookups.end());  // circuit order
  return encoding;
}

}  // namespace

int signed_encoding_bits(const ir::Range& range) {
  int w = 1;
  while (w < 62 && !(-(int64_t{1} << w) <= range.min && range.max < (int64_t{1} << w))) ++w;
  return w;
}

const LookupPlan* EnginePlan::lookup_for(ir::NodeId node) const {
  for (const auto& l : lookups) {
    if (l.node == node) return &l;
  }
  return nullptr;
}

EnginePlan plan_for_engine(const ir::Circuit& circuit, const PlanOptions& options, const ir::SeenRanges* seen) {
  EnginePlan plan;
  plan.ranges = options.ranges;
  const ElementRanges ranges = element_ranges(circuit, options, seen);
  plan.encoding_bits = plan_encodings(circuit, ranges, plan.lookups);
  for (const auto& lookup : plan.lookups) {
    plan.max_index_bits = std::max(plan.max_index_bits, lookup.index_bits);
    for (size_t i = 0; i < lookup.constant.size(); ++i) {
      if (lookup.constant[i]) continue;
      ++plan.bootstraps_per_sample;
      plan.max_squared_weight_norm = std::max(plan.max_squared_weight_norm, lookup.squared_norms[i]);
    }
  }
  plan.max_index_bits = std::max(plan.max_index_bits, 1);
  plan.max_squared_weight_norm = std::max(plan.max_squared_weight_norm, 1.0);
  plan.p_error_per_lookup = options.p_error;
  if (options.global_p_error) {
    const double n = static_cast<double>(std::max<size_t>(plan.bootstraps_per_sample, 1));
    plan.p_error_per_lookup = -std::expm1(std::log1p(-*options.global_p_error) / n);  // 1 - (1 - P)^(1/n)
  }
  FHENN_CHECK(plan.p_error_per_lookup > 0 && plan.p_error_per_lookup < 1,
              "the failure probability must lie in (0, 1), got ", plan.p_error_per_lookup);
  if (options.parameter_set) {
    plan.params = tfhe::parameter_set(*options.parameter_set);
    FHENN_CHECK(plan.params.message_bits.value >= static_cast<size_t>(plan.max_index_bits), "parameter set '",
                plan.params.name, "' carries ", plan.params.message_bits.value, "-bit messages; this circuit's ",
                "widest lookup reads ", plan.max_index_bits, " bits");
    tfhe::require_secure(plan.params, options.allow_insecure ? tfhe::KeySecurity::allow_insecure
                                                             : tfhe::KeySecurity::require_128_bit);
  } else {
    plan.params = tfhe::select_parameters(static_cast<size_t>(plan.max_index_bits), plan.max_squared_weight_norm,
                                          plan.p_error_per_lookup);
  }
  plan.predicted_failure_per_lookup = tfhe::noise::failure_probability(plan.params, plan.max_squared_weight_norm);
  return plan;
}

std::string describe_plan(const ir::Circuit& circuit, const EnginePlan& plan) {
  std::ostringstream out;
  out << "parameter set " << plan.params.name << (plan.params.secure ? "" : " [INSECURE: below 128-bit security]")
      << " (n=" << plan.params.lwe_dimension
      << ", k=" << plan.params.glwe_dimension << ", N=" << plan.params.polynomial_size << ", PBS "
      << plan.params.pbs_level << "x2^" << plan.params.pbs_base_log << ", KS " << plan.params.ks_level << "x2^"
      << plan.params.ks_base_log << "), ranges: " << (plan.ranges == RangeSource::worst_case ? "worst case" : "seen")
      << "\n";
  for (const auto& lookup : plan.lookups) {
    const auto folded = std::count(lookup.constant.begin(), lookup.constant.end(), true);
    out << "  " << circuit.node(lookup.node).name << ": reads " << lookup.index_bits << " bits of a "
        << lookup.index_bits + lookup.shift << "-bit accumulator ('" << circuit.node(lookup.accumulator).name << "'), "
        << lookup.constant.size() - static_cast<size_t>(folded) << " bootstraps";
    if (folded > 0) out << " (" << folded << " constant neurons folded)";
    out << "\n";
  }
  out << "bootstraps per sample: " << plan.bootstraps_per_sample << ", widest lookup: " << plan.max_index_bits
      << " bits, max squared weight norm: " << plan.max_squared_weight_norm
      << ", failure probability per lookup: " << plan.predicted_failure_per_lookup << " (target "
      << plan.p_error_per_lookup << ")\n";
  return out.str();
}

}  // namespace fhenn::runtime
