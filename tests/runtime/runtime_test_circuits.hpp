// Small hand-built circuits and shared keys for the plan, simulated and encrypted executor tests.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "fhenn/ir/circuit.hpp"
#include "fhenn/tfhe/csprng.hpp"
#include "fhenn/tfhe/keys.hpp"
#include "fhenn/tfhe/parameters.hpp"

namespace fhenn::runtime::testing {

// input x (2 values in [0, input_max]) -> dot product (3 neurons, one of them all-zero) -> [round] -> lookup
// (relu-like tables clamped to [0, 7]) -> dot product (2 outputs) -> output.
inline ir::Circuit small_mlp_circuit(int round_shift, int64_t input_max = 7) {
  ir::CircuitBuilder b;
  const auto x = b.add_input("input", 2, {0, input_max});
  const auto acc = b.add_dot_product("fc1.accumulator", x, 3, {2, -1, 0, 0, -3, 2}, {1, 0, 4});
  auto operand = acc;
  if (round_shift > 0) operand = b.add_round("fc1.round", acc, round_shift);
  std::vector<ir::LookupTable> tables;
  for (int i = 0; i < 3; ++i) {
    ir::LookupTable t;
    t.input_min = -32;
    for (int64_t v = -32; v <= 32; ++v) t.values.push_back(std::clamp<int64_t>(v / 2 + i, 0, 7));
    tables.push_back(t);
  }
  const auto lookup = b.add_table_lookup("fc1.lookup", operand, tables);
  const auto out = b.add_dot_product("fc2.accumulator", lookup, 2, {1, 2, -1, -2, 1, 3});
  b.add_output("output", out);
  return std::move(b).build();
}

// input x in [0, 15 * 2^shift - 1] -> identity dot product -> round(shift) -> identity lookup (4-bit index):
// for measuring how a bootstrap rounds values at and near the half-way points.
inline int64_t rounding_probe_max(int shift) {
  return 15 * (int64_t{1} << shift) - 1;
}
inline ir::Circuit rounding_probe_circuit(int shift) {
  ir::CircuitBuilder b;
  const auto x = b.add_input("input", 1, {0, rounding_probe_max(shift)});
  const auto acc = b.add_dot_product("probe.accumulator", x, 1, {1});
  const auto rounded = b.add_round("probe.round", acc, shift);
  ir::LookupTable t;
  t.input_min = 0;
  for (int64_t v = 0; v <= 15; ++v) t.values.push_back(v);
  const auto lookup = b.add_table_lookup("probe.lookup", rounded, {t});
  b.add_output("output", lookup);
  return std::move(b).build();
}

// input x (one value in [0, 7]) -> 64 identity lookups (3-bit tables, offset per lookup) -> one output summing them
// with weight `weight` each: scores whose noise, 64 bootstraps times weight^2, no set decrypts exactly for a
// large weight (approximate output decoding, PlanOptions::output_bits).
inline ir::Circuit wide_output_circuit(int64_t weight) {
  ir::CircuitBuilder b;
  const auto x = b.add_input("input", 1, {0, 7});
  const auto spread = b.add_dot_product("spread", x, 64, std::vector<int64_t>(64, 1));
  std::vector<ir::LookupTable> tables;
  for (int64_t i = 0; i < 64; ++i) {
    ir::LookupTable t;
    t.input_min = 0;
    for (int64_t v = 0; v <= 7; ++v) t.values.push_back((v + i) % 8);
    tables.push_back(t);
  }
  const auto lookup = b.add_table_lookup("spread.lookup", spread, tables);
  std::vector<int64_t> weights(64 * 2, weight);
  for (size_t k = 64; k < weights.size(); ++k) weights[k] = k % 2 == 0 ? weight : -weight;
  const auto out = b.add_dot_product("scores", lookup, 2, weights);
  b.add_output("output", out);
  return std::move(b).build();
}

// Keys per parameter set, generated once per test binary (key generation takes a second or more).
struct SharedKeys {
  std::unique_ptr<tfhe::ClientKey> client;
  std::unique_ptr<tfhe::ServerKey> server;
};

inline const SharedKeys& shared_keys(const tfhe::ParameterSet& params) {
  static std::map<std::string, SharedKeys> cache;
  auto& keys = cache[params.name];
  if (!keys.client) {
    auto rng = tfhe::Csprng::for_tests_only(42);
    keys.client =
        std::make_unique<tfhe::ClientKey>(tfhe::ClientKey::generate(params, rng, tfhe::KeySecurity::allow_insecure));
    keys.server = std::make_unique<tfhe::ServerKey>(tfhe::ServerKey::generate(*keys.client, rng, 2));
  }
  return keys;
}

}  // namespace fhenn::runtime::testing
