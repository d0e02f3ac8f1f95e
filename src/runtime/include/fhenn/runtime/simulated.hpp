// The simulated executor: clear integers, with each lookup reading its input through the encryption's noise.
#pragma once

#include <cstdint>

#include "fhenn/ir/circuit.hpp"
#include "fhenn/runtime/engine_plan.hpp"
#include "fhenn/runtime/executor.hpp"

namespace fhenn::runtime {

// Evaluates the circuit on integers like ClearExecutor, except each table lookup (not folded to a constant) reads
// what the bootstrap would read (docs/encrypted.md, (S1)-(S2)):
//   (S1) phase  = a - index_min * 2^shift (+ 1/2 when shift > 0) + e,   e ~ N(0, sigma^2),
//                 sigma = pbs_input_stddev(params, ||w_i||^2), expressed in units of the accumulator's encoding
//                 2^(63 - w) (sigma_torus * 2^(w + 1));
//   (S2) j      = floor(phase / 2^shift + 1/2)   (half-box offset: round to nearest, the approximate rounding),
//                 then T_i(index_min + j) for 0 <= j < 2^r, the negacyclic -T_i(index_min + j - 2^r) above,
//                 and likewise wrapped modulo 2^(r + 1) below 0 (a failed lookup).
// With zero noise (noise_scale = 0) it equals the clear executor bit for bit, with or without rounding. Thousands of
// times faster than encryption.
class SimulatedExecutor final : public Executor {
 public:
  // noise_scale multiplies sigma (1: the parameter set's real noise; larger values stress-test).
  SimulatedExecutor(const ir::Circuit& circuit, EnginePlan plan, uint64_t seed, int threads = 1,
                    double noise_scale = 1.0);
  std::vector<int64_t> run(const ir::Circuit& circuit, std::span<const int64_t> inputs) override;
  IntMatrix run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) override;
  std::string name() const override { return "simulate"; }

 private:
  void run_sample(std::span<const int64_t> inputs, uint64_t sample_seed, std::span<int64_t> node_values,
                  std::span<int64_t> outputs) const;

  const ir::Circuit& circuit_;
  EnginePlan plan_;
  uint64_t seed_;
  int threads_;
  uint64_t samples_run_ = 0;
  std::vector<std::vector<double>> sigma_;  // per planned lookup, per element, in accumulator encoding units
  std::vector<double> output_sigma_;        // per output element decoded approximately, in its integers (E6)
};

}  // namespace fhenn::runtime
