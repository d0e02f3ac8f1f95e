// Post-training quantization (Concrete ML documentation): options, calibration statistics and derived quantizers.
#pragma once

#include <cstdint>
#include <span>

#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::quant {

// What the user chose: bits per tensor role.
struct NBits {
  int model_inputs = 5;   // the client's quantization of the features
  int op_inputs = 3;      // every layer input inside the circuit (the table lookups' outputs)
  int op_weights = 3;     // every layer's weights
  int model_outputs = 5;  // kept for the reference's option set; our last layer is dequantized exactly (no TLU)

  // The reference's meaning of an integer n_bits: weights and op inputs n, model inputs and outputs max(5, n).
  static NBits uniform(int n);
  bool operator==(const NBits&) const = default;
};

// Throws fhenn::Error unless every role has 2..16 bits (naming the role).
void validate(const NBits& n_bits);

// What calibration saw: per-tensor minimum and maximum.
struct TensorStatistics {
  double rmin = 0.0;
  double rmax = 0.0;
  bool empty = true;

  void observe(double value);
  void observe(std::span<const double> values);
  static TensorStatistics of(std::span<const double> values);
};

// offset = 2^(n-1) if signed, else 0 (Concrete ML documentation, formula (Q1) of docs/circuit.md).
int64_t quantizer_offset(int bits, bool is_signed);

// Symmetric quantizer (weights), formula (Q2): zero point 0, scale = max(|rmin|, |rmax|) / (2^(n-1) - 1),
// integers clipped to [-2^(n-1), 2^(n-1) - 1]. A tensor of zeros gets scale 1.
UniformQuantizer symmetric_quantizer(const TensorStatistics& stats, int bits);

// Asymmetric quantizer (activations), formula (Q3): signed exactly when rmin < 0;
// scale = (rmax - rmin) / (2^n - 1), zp = round((-rmax * offset - rmin * (2^n - 1 - offset)) / (rmax - rmin)).
// A constant tensor (rmax - rmin below 1e-12) gets scale |rmax| (or 1 for zeros) and zero point 0.
UniformQuantizer asymmetric_quantizer(const TensorStatistics& stats, int bits);

}  // namespace fhenn::quant
