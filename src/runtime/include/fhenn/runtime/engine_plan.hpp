// Lowering a circuit to the TFHE engine: each ciphertext's encoding, each lookup's table and the parameter set.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fhenn/ir/circuit.hpp"
#include "fhenn/ir/ranges.hpp"
#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::runtime {

// Which value ranges size the encodings: the guaranteed worst case (every input in its declared range is
// evaluated exactly; ir::guaranteed_element_ranges: exact when the inputs can take at most 2^16 values, interval
// bounds otherwise), or the ranges seen on an input set (the reference's choice: narrower, so cheaper, but an
// unseen input that leaves them may read a wrong table entry).
enum class RangeSource { worst_case, seen };

struct PlanOptions {
  double p_error = 0x1p-40;                  // failure probability per table lookup
  std::optional<double> global_p_error;      // if set: for the whole circuit (divided over its lookups)
  std::optional<std::string> parameter_set;  // force a named set instead of choosing the cheapest
  bool allow_insecure = false;               // accept a forced set below 128-bit security (tests, experiments)
  RangeSource ranges = RangeSource::worst_case;
  // Outputs decrypt exactly to their `output_bits` most significant bits only: below those, the decrypted integer
  // may carry the bootstraps' noise (docs/encrypted.md, (E6)), which a wide output (scores decoded by argmax)
  // tolerates. 0: every bit exact.
  int output_bits = 0;
};

// How one table-lookup node runs encrypted (docs/encrypted.md, formulas (E1)-(E5)).
//   (E1) its accumulator a (a linear node, an input or a lookup) is encoded as a * 2^(63 - e), e = encoding_bits
//        of the accumulator, at least w = index_bits + shift (a wider e serves another consumer of a);
//   (E5) when e > w the server first multiplies it by 2^(e - w) (input_scale_shift), giving a * 2^(63 - w);
//   (E2) the server adds -index_min[t] * 2^shift (and half a unit, 2^(62 - w), when shift > 0, so that no
//        integer lies on a rounding boundary), so the phase is (a - index_min[t] * 2^shift [+ 1/2]) * 2^(63 - w);
//   (E3) a PBS with a table of 2^index_bits entries reads j = round(a / 2^shift) - index_min[t] (the bootstrap's
//        half-box offset rounds to nearest: this IS the round node, approximate near the boundaries);
//   (E4) entry j holds T_t(index_min[t] + j), encoded for the consumers (output_encoding_bits).
// t = ir::table_index(element): one plan entry per table (per element, per channel or one for all).
struct LookupPlan {
  ir::NodeId node = 0;             // the table lookup
  ir::NodeId accumulator = 0;      // the ciphertext node it reads (a linear node, an input or a lookup)
  int shift = 0;                   // low bits dropped before the lookup (its round node's shift, or 0)
  int index_bits = 0;              // the table's input bits: the bootstrap's precision
  int input_scale_shift = 0;       // (E5): the accumulator's encoding minus lookup_bits()
  std::vector<int64_t> index_min;  // per table: the smallest (rounded) value its elements read
  std::vector<double>
      squared_norms;           // per element: the noise variance at the PBS input, in units of a fresh
                               // ciphertext's (squared 2-norm of the weights over fresh ciphertexts, (E5) included)
  std::vector<bool> constant;  // per element: no ciphertext reaches it (all weights zero): a clear constant
  int output_encoding_bits = 0;

  int lookup_bits() const { return index_bits + shift; }
};

// Encodings per value (docs/encrypted.md): every ciphertext node is encoded as a * 2^(63 - e) with e the widest
// its consumers need (an output: the signed width of its values; a lookup: lookup_bits(); a linear node: its own
// e). A consumer that needs fewer bits multiplies the operand by 2^(e - need) first (exact modulo 2^64, since
// linear maps commute with the torus' wrap-around), so that lookups read 8 bits while outputs and the
// integers only linear ops read can be up to 40 bits wide.
struct EnginePlan {
  tfhe::ParameterSet params;
  RangeSource ranges = RangeSource::worst_case;
  std::vector<int> encoding_bits;  // per node: e of a * 2^(63 - e) for ciphertext nodes, 0 for round nodes
  std::vector<LookupPlan> lookups;
  int max_index_bits = 0;
  double max_squared_weight_norm = 0.0;
  size_t bootstraps_per_sample = 0;           // table-lookup elements that need a PBS (constants folded)
  double p_error_per_lookup = 0.0;            // the target
  double predicted_failure_per_lookup = 0.0;  // the noise formula's value for the chosen set, worst lookup
  double predicted_failure_per_output = 0.0;  // decrypting an output wrongly, worst output element
  int output_bits = 0;                        // PlanOptions::output_bits
  // Per output element (in the circuit's output order): the standard deviation of its decrypted integer's error
  // when it decodes approximately (wider than output_bits), else 0. Empty when every output decodes exactly.
  std::vector<double> output_error_stddev;

  // The plan of the table lookup `node`, or nullptr.
  const LookupPlan* lookup_for(ir::NodeId node) const;
};

// Chooses encodings and the cheapest parameter set meeting the failure target (tfhe::select_parameters with the
// widest table input and the largest squared weight norm feeding a lookup). `seen` is required with
// RangeSource::seen. Throws fhenn::Error naming the node and the fix when a lookup is wider than the engine
// supports, or when the circuit has a shape the engine cannot run.
EnginePlan plan_for_engine(const ir::Circuit& circuit, const PlanOptions& options,
                           const ir::SeenRanges* seen = nullptr);

// A readable summary (parameter set, widths, encodings, bootstraps per sample).
std::string describe_plan(const ir::Circuit& circuit, const EnginePlan& plan);

// The smallest w with -2^w <= min and max < 2^w: the encoding that decrypts a signed value exactly
// (the padding bit carries the sign).
int signed_encoding_bits(const ir::Range& range);

}  // namespace fhenn::runtime
