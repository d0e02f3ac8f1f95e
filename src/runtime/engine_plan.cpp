// Lowering a circuit to the TFHE engine (see engine_plan.hpp and docs/encrypted.md).
#include "fhenn/runtime/engine_plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/ir/linear_terms.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "fhenn/tfhe/security.hpp"

namespace fhenn::runtime {
namespace {

constexpr int kEngineMaxIndexBits = 8;
constexpr int kMaxEncodingBits = 40;  // keeps the bootstrap noise far below the smallest encoded unit

using ElementRanges = std::vector<std::vector<ir::Range>>;
using ElementVariances = std::vector<std::vector<double>>;

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

// Records that a consumer needs `node` encoded with at least `bits` bits; the node's encoding is the widest need.
void require_encoding(const ir::Circuit& circuit, std::vector<int>& encoding, ir::NodeId node, int bits) {
  FHENN_CHECK(bits <= kMaxEncodingBits, "node '", circuit.node(node).name, "' needs a ", bits,
              "-bit encoding; the engine keeps values within ", kMaxEncodingBits,
              " bits: lower the bit widths or add rounding");
  encoding[node] = std::max(encoding[node], bits);
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
  FHENN_CHECK(accumulator.kind() != ir::OpKind::round, "table lookup '", lookup.name, "' reads '", accumulator.name,
              "' rounded twice; the encrypted runtime rounds once, inside the lookup: merge the two round nodes");
  // The index range per table is the hull of its elements' ranges (already rounded after a round node).
  const auto& op = std::get<ir::TableLookupOp>(lookup.op);
  const auto& index_ranges = ranges[operand];
  const size_t per_table = lookup.width / op.tables.size();
  uint64_t widest_span = 0;
  for (size_t t = 0; t < op.tables.size(); ++t) {
    const std::vector<ir::Range> elements(index_ranges.begin() + static_cast<std::ptrdiff_t>(t * per_table),
                                          index_ranges.begin() + static_cast<std::ptrdiff_t>((t + 1) * per_table));
    const ir::Range all = hull(elements);
    plan.index_min.push_back(all.min);
    widest_span = std::max(widest_span, static_cast<uint64_t>(all.max - all.min));
  }
  plan.index_bits = unsigned_bits(widest_span);
  FHENN_CHECK(plan.index_bits <= kEngineMaxIndexBits, "table lookup '", lookup.name, "' reads ", plan.index_bits,
              "-bit values (", widest_span + 1, " distinct inputs); the engine's lookups take at most ",
              kEngineMaxIndexBits, " bits: set rounding_threshold_bits <= ", kEngineMaxIndexBits,
              ", prune to fewer non-zero weights per neuron, or lower the weight/activation bits");
  return plan;
}

bool feeds_only_lookups(const ir::Circuit& circuit, ir::NodeId id) {
  for (const ir::Node& user : circuit.nodes()) {
    for (ir::NodeId o : user.operands) {
      if (o == id && user.kind() != ir::OpKind::table_lookup) return false;
    }
  }
  return true;
}

// Encodings from the consumers backwards: outputs decrypt signed, lookups read lookup_bits(), a linear node's
// operands need its encoding since sum_j W_ij (x_j Delta) = (sum_j W_ij x_j) Delta; each node takes the widest need.
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
        require_encoding(circuit, encoding, plan.accumulator, plan.lookup_bits());
        lookups.push_back(std::move(plan));
        break;
      }
      case ir::OpKind::round:
        FHENN_CHECK(feeds_only_lookups(circuit, id), "round node '", node.name,
                    "' feeds something other than a table lookup; encrypted, rounding happens inside a lookup");
        break;
      case ir::OpKind::input:
        FHENN_CHECK(encoding[id] != 0, "input '", node.name, "' is never used");
        break;
      default:  // the linear ops
        FHENN_CHECK(encoding[id] != 0, ir::traits(node.kind()).name, " '", node.name, "' is never used");
        for (ir::NodeId o : node.operands) {
          FHENN_CHECK(nodes[o].kind() != ir::OpKind::round, ir::traits(node.kind()).name, " '", node.name,
                      "' reads the round node '", nodes[o].name,
                      "'; encrypted, rounding happens inside a lookup: read the lookup instead");
          require_encoding(circuit, encoding, o, encoding[id]);
        }
        break;
    }
  }
  std::reverse(lookups.begin(), lookups.end());  // circuit order
  for (LookupPlan& plan : lookups) plan.input_scale_shift = encoding[plan.accumulator] - plan.lookup_bits();
  return encoding;
}

// Noise variances per element in units of a fresh ciphertext's (an input's or a bootstrap's output; formula (2)).
// The terms of a linear node over fresh, distinct operands are independent: the variance is sum c^2 v. Otherwise
// they may be correlated (two paths from one bootstrap), and (sum |c| sqrt(v))^2 bounds the variance whatever
// the correlation. c = w * 2^(e_operand - e_node) includes the scaling to the node's encoding.
ElementVariances noise_variances(const ir::Circuit& circuit, const std::vector<int>& encoding,
                                 std::vector<LookupPlan>& lookups) {
  const auto& nodes = circuit.nodes();
  ElementVariances variance(nodes.size());
  std::vector<bool> fresh(nodes.size(), false);
  size_t next_lookup = 0;
  for (ir::NodeId id = 0; id < nodes.size(); ++id) {
    const ir::Node& node = nodes[id];
    if (node.kind() == ir::OpKind::input) {
      variance[id].assign(node.width, 1.0);
      fresh[id] = true;
    } else if (node.kind() == ir::OpKind::table_lookup) {
      LookupPlan& plan = lookups[next_lookup++];
      const auto& in = variance[plan.accumulator];
      const double scale = std::ldexp(1.0, 2 * plan.input_scale_shift);
      variance[id].resize(node.width);
      for (size_t i = 0; i < node.width; ++i) {
        plan.squared_norms.push_back(in[i] * scale);
        plan.constant.push_back(in[i] == 0.0);
        variance[id][i] = in[i] == 0.0 ? 0.0 : 1.0;  // a folded element is a trivial ciphertext
      }
      fresh[id] = true;
    } else if (ir::traits(node.kind()).is_linear) {
      std::set<ir::NodeId> distinct(node.operands.begin(), node.operands.end());
      bool independent = distinct.size() == node.operands.size();
      for (ir::NodeId o : node.operands) independent = independent && fresh[o];
      const ir::LinearTerms terms(node, nodes);
      variance[id].resize(node.width);
      for (size_t i = 0; i < node.width; ++i) {
        double squares = 0.0;
        double deviations = 0.0;
        terms.visit(i, [&](size_t slot, size_t j, int64_t w) {
          const ir::NodeId o = node.operands[slot];
          const double c = std::ldexp(static_cast<double>(w), encoding[o] - encoding[id]);
          squares += c * c * variance[o][j];
          deviations += std::abs(c) * std::sqrt(variance[o][j]);
        });
        variance[id][i] = independent ? squares : deviations * deviations;
      }
    }
  }
  return variance;
}

// Formula (10) for decrypting an output element: P(|e| >= Delta/2), Delta/2 = 2^-(e + 2) of the torus, e the
// error of its ciphertext (variance v fresh units, a fresh unit being a bootstrap's output or an encryption).
double output_failure_probability(const tfhe::ParameterSet& params, int encoding_bits, double fresh_units) {
  if (fresh_units == 0.0) return 0.0;
  const double unit = tfhe::noise::pbs_input_variance(params, 1.0) - tfhe::noise::pbs_input_variance(params, 0.0);
  const double sigma = std::sqrt(fresh_units * unit);
  return std::erfc(std::ldexp(1.0, -(encoding_bits + 2)) / (std::sqrt(2.0) * sigma));
}

// The bits of an output of encoding `encoding` that must decrypt exactly (E6).
int exact_output_bits(int encoding, int output_bits) {
  return output_bits > 0 ? std::min(encoding, output_bits) : encoding;
}

// The largest bootstrap output variance (in torus units) with which every output element decrypts within `target`.
double max_bootstrap_output_variance(const ir::Circuit& circuit, const std::vector<int>& encoding,
                                     const ElementVariances& variance, double target, int output_bits) {
  double bound = std::numeric_limits<double>::infinity();
  for (ir::NodeId id : circuit.outputs()) {
    const ir::NodeId operand = circuit.node(id).operands[0];
    const double allowed = tfhe::noise::max_error_variance(exact_output_bits(encoding[operand], output_bits), target);
    for (double v : variance[operand]) {
      if (v > 0.0) bound = std::min(bound, allowed / v);
    }
  }
  return bound;
}

// The worst output element's failure probability; throws fhenn::Error naming the output when it exceeds `target`.
double check_outputs(const ir::Circuit& circuit, const EnginePlan& plan, const ElementVariances& variance,
                     double target) {
  double worst = 0.0;
  for (ir::NodeId id : circuit.outputs()) {
    const ir::NodeId operand = circuit.node(id).operands[0];
    const int bits = exact_output_bits(plan.encoding_bits[operand], plan.output_bits);
    for (double v : variance[operand]) {
      const double p = output_failure_probability(plan.params, bits, v);
      worst = std::max(worst, p);
      FHENN_CHECK(p <= target, "output '", circuit.node(id).name, "': decrypting its ", bits,
                  "-bit values fails with probability ", p, " (target ", target,
                  "); lower its bit width (fewer weight or activation bits in the last layer)");
    }
  }
  return worst;
}

// (E6) Each output element's decrypted error, in its integers, when it decodes approximately: sigma of the
// torus error times 2^(e + 1) integers per torus; 0 where it decodes exactly. Empty when all decode exactly.
std::vector<double> output_error_stddev(const ir::Circuit& circuit, const EnginePlan& plan,
                                        const ElementVariances& variance) {
  std::vector<double> stddev;
  bool any = false;
  const double unit =
      tfhe::noise::pbs_input_variance(plan.params, 1.0) - tfhe::noise::pbs_input_variance(plan.params, 0.0);
  for (ir::NodeId id : circuit.outputs()) {
    const ir::NodeId operand = circuit.node(id).operands[0];
    const int e = plan.encoding_bits[operand];
    const bool approximate = exact_output_bits(e, plan.output_bits) < e;
    for (double v : variance[operand]) {
      stddev.push_back(approximate ? std::sqrt(v * unit) * std::ldexp(1.0, e + 1) : 0.0);
      any = any || stddev.back() > 0.0;
    }
  }
  if (!any) stddev.clear();
  return stddev;
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
  FHENN_CHECK(options.output_bits >= 0 && options.output_bits <= 62, "output bits ", options.output_bits,
              ": give 1..62, or 0 for every bit");
  plan.output_bits = options.output_bits;
  const ElementRanges ranges = element_ranges(circuit, options, seen);
  plan.encoding_bits = plan_encodings(circuit, ranges, plan.lookups);
  const ElementVariances variance = noise_variances(circuit, plan.encoding_bits, plan.lookups);
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
    tfhe::require_secure(
        plan.params, options.allow_insecure ? tfhe::KeySecurity::allow_insecure : tfhe::KeySecurity::require_128_bit);
  } else {
    plan.params = tfhe::select_parameters(static_cast<size_t>(plan.max_index_bits), plan.max_squared_weight_norm,
                                          plan.p_error_per_lookup,
                                          max_bootstrap_output_variance(circuit, plan.encoding_bits, variance,
                                                                        plan.p_error_per_lookup, plan.output_bits));
  }
  plan.predicted_failure_per_lookup = tfhe::noise::failure_probability(plan.params, plan.max_squared_weight_norm);
  plan.predicted_failure_per_output = check_outputs(circuit, plan, variance, plan.p_error_per_lookup);
  plan.output_error_stddev = output_error_stddev(circuit, plan, variance);
  return plan;
}

std::string describe_plan(const ir::Circuit& circuit, const EnginePlan& plan) {
  std::ostringstream out;
  out << "parameter set " << plan.params.name << (plan.params.secure ? "" : " [INSECURE: below 128-bit security]")
      << " (n=" << plan.params.lwe_dimension << ", k=" << plan.params.glwe_dimension
      << ", N=" << plan.params.polynomial_size << ", PBS " << plan.params.pbs_level << "x2^" << plan.params.pbs_base_log
      << ", KS " << plan.params.ks_level << "x2^" << plan.params.ks_base_log
      << "), ranges: " << (plan.ranges == RangeSource::worst_case ? "worst case" : "seen") << "\n";
  for (const auto& lookup : plan.lookups) {
    const auto folded = std::count(lookup.constant.begin(), lookup.constant.end(), true);
    out << "  " << circuit.node(lookup.node).name << ": reads " << lookup.index_bits << " bits of a "
        << lookup.lookup_bits() << "-bit accumulator ('" << circuit.node(lookup.accumulator).name << "'";
    if (lookup.input_scale_shift > 0) out << ", scaled by 2^" << lookup.input_scale_shift;
    out << "), " << lookup.constant.size() - static_cast<size_t>(folded) << " bootstraps";
    if (folded > 0) out << " (" << folded << " constant neurons folded)";
    out << "\n";
  }
  out << "bootstraps per sample: " << plan.bootstraps_per_sample << ", widest lookup: " << plan.max_index_bits
      << " bits, max squared weight norm: " << plan.max_squared_weight_norm
      << ", failure probability per lookup: " << plan.predicted_failure_per_lookup << " (target "
      << plan.p_error_per_lookup << "), per output: " << plan.predicted_failure_per_output << "\n";
  if (!plan.output_error_stddev.empty()) {
    out << "outputs decrypt exactly to their " << plan.output_bits << " most significant bits; below, errors of "
        << "standard deviation up to "
        << *std::max_element(plan.output_error_stddev.begin(), plan.output_error_stddev.end()) << " output integers\n";
  }
  return out.str();
}

}  // namespace fhenn::runtime
