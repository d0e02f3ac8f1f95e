// Compiling a trained network to an integer circuit: post-training quantization and QAT import.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/auto_rounding.hpp"
#include "fhenn/compiler/dequantization.hpp"
#include "fhenn/compiler/model.hpp"
#include "fhenn/ir/bit_widths.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/quant/ptq.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

using quant::NBits;

// How the client quantizes the graph's inputs: one scale and zero point per input channel (a flat input's
// features, an image's colour channels), each calibrated on its own range, or one for the whole input. Per
// channel applies to an input that only Gemm and Conv read (directly or through Flatten and Reshape), which fold
// the scales into their weights; another reader (an Add, a pool) would need a requantizing lookup per element, so
// such an input keeps one range.
enum class InputQuantization { per_channel, per_tensor };

// How post-training quantization scales a linear op's (Gemm's, Conv's) weights: one symmetric scale for the whole
// weight tensor (the reference's), or one per output channel (neuron), each fitted to its own weights: finer
// weights where channels' magnitudes differ, at no cost in the circuit (each channel's lookup has its own table).
enum class WeightQuantization { per_tensor, per_channel };

// The ranges a measure reads: those seen on the calibration / input set (the reference's), or those guaranteed for
// every input (what an encrypted run needs to be exact).
enum class RangeMeasure { seen, worst_case };

struct PtqOptions {
  NBits n_bits = NBits::uniform(3);
  // Keep this many most significant bits of every accumulator before its table lookup (Concrete ML documentation). The
  // shift is the smallest for which the layer's accumulator range (rounding_ranges), rounded, fits in these bits.
  std::optional<int> rounding_threshold_bits;
  // The accumulator range the rounding keeps rounding_threshold_bits of: the worst case (every input reads its
  // table exactly) or the range seen on the calibration set (the reference's: fewer low bits dropped, but an
  // accumulator beyond it reads past its lookup's planned bits, so plan with seen ranges too).
  RangeMeasure rounding_ranges = RangeMeasure::worst_case;
  // One range for all input features (the reference's), or one per feature.
  InputQuantization input_quantization = InputQuantization::per_tensor;
  WeightQuantization weight_quantization = WeightQuantization::per_tensor;
  // Choose rounding_threshold_bits automatically (auto_rounding.hpp; rounding_threshold_bits must then be unset).
  std::optional<AutoRoundingOptions> auto_rounding{};
};

// What the client needs: quantize inputs, dequantize outputs.
struct ClientQuantization {
  std::vector<quant::UniformQuantizer> inputs;  // one per input feature
  std::vector<OutputDequantization> outputs;    // one per output integer

  std::vector<int64_t> quantize(std::span<const double> features) const;
  void quantize_into(std::span<const double> features, std::span<int64_t> out) const;
  // All rows of `features`, flat (rows x inputs.size()), e.g. for runtime::IntMatrix.
  std::vector<int64_t> quantize_rows(const Matrix& features) const;
  // Scores (the last layer's bias included) of the circuit's output integers.
  std::vector<double> dequantize(std::span<const int64_t> outputs) const;
  bool operator==(const ClientQuantization&) const = default;
};

// What the precision check's fixes need of a linear op (Gemm, Conv) and the circuit does not hold: the range of
// its input integers with their zero points removed (over every input channel), and its weight bits.
struct LinearOpFacts {
  std::string node;  // its accumulator node, e.g. "fc1.accumulator"
  int64_t input_min = 0;
  int64_t input_max = 0;
  int weight_bits = 0;
  bool operator==(const LinearOpFacts&) const = default;
};

struct CompiledModel {
  ir::Circuit circuit;
  ClientQuantization client;
  ir::BitWidthReport report;  // per node, seen on the calibration / input set, and worst case
  std::string source;         // "ptq" or "qat"
  std::optional<int> rounding_threshold_bits;
  std::vector<LinearOpFacts> linear_ops;  // in circuit order
  // What the automatic rounding chose and measured (at compile time only: not saved with the circuit).
  std::optional<AutoRoundingReport> auto_rounding;
};

// Post-training quantization (Concrete ML documentation) of a fully connected network, as the model graph of
// mlp_graph.hpp: calibrates on `calibration` (one row per sample), quantizes the weights symmetrically and the
// activations and the input (options.input_quantization) asymmetrically, lowers to the circuit, measures bit
// widths on the calibration set. Throws fhenn::Error for a bad model, options or calibration set.
CompiledModel compile_ptq(const FloatMlp& model, const Matrix& calibration, const PtqOptions& options);

// QAT import: the trained quantizers and rounding shifts as they are, nothing re-calibrated (the model graph of
// qat_mlp_graph); `inputs_for_ranges` only measures the seen bit widths. Throws fhenn::Error naming a tensor without
// its quantizer.
CompiledModel compile_qat(const QatMlp& model, const Matrix& inputs_for_ranges);

// The quantized model's scores for one sample ("3-bit accuracy"): the client's quantization, the clear circuit
// and the client's dequantization.
std::vector<double> fake_quantized_scores(const CompiledModel& compiled, std::span<const double> features);

// argmax, the first maximum wins.
int predicted_class(std::span<const double> scores);

// Bit widths of `compiled.circuit` seen on `features` (quantized by the client), with the worst case.
ir::BitWidthReport measure_bit_widths(const CompiledModel& compiled, const Matrix& features);

// Throws fhenn::Error naming `role` ("calibration", "input") unless `features` has at least one row, `width`
// columns and only finite values.
void check_feature_rows(const Matrix& features, size_t width, const char* role);

// Sealed artifact "fhenn-compiled-model". load_compiled throws fhenn::Error for a missing, truncated, corrupted or
// inconsistent file.
void save_compiled(const CompiledModel& compiled, const std::filesystem::path& path);
CompiledModel load_compiled(const std::filesystem::path& path);
std::vector<uint8_t> serialize_compiled(const CompiledModel& compiled);
CompiledModel deserialize_compiled(std::span<const uint8_t> bytes, const std::string& what);

}  // namespace fhenn::compiler
