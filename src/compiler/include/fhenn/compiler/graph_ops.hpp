// The model graph's op registry: each op's shape rule, float reference and lowering to the integer circuit.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhenn/common/checked.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/quant/ptq.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

// A float tensor's form inside the circuit (docs/circuit.md, (L1)-(L5) generalised to tensors):
//   quantized    x[i] = quantizer.dequantize(q[i])                 (a lookup's output, or the client's)
//   per channel  x[i] = channel_quantizers[c].dequantize(q[i])     (the client's, one quantizer per feature)
//   accumulator  x[i] = double(v[i]) * input_scale * weight_scale[c] + bias[c]   evaluated in double left to
//                right, exactly as (L3); weight_scale[c] = weight_scales[c], or the one weight_scale
// where c is the channel of element i (channel_size: the first axis, so every feature of a flat tensor).
struct EncodedTensor {
  ir::NodeId node = 0;
  size_t tensor = 0;  // the graph tensor it encodes (its calibration statistics)
  std::optional<quant::UniformQuantizer> quantizer;
  std::vector<quant::UniformQuantizer> channel_quantizers;
  double input_scale = 1.0;
  double weight_scale = 1.0;
  std::vector<double> weight_scales;  // accumulators of per-channel weights: one per channel (else empty)
  std::vector<double> bias;           // accumulators: one per channel
  // Accumulators: a trained rounding shift (GraphNode attribute rounding_shift) for the lookup that reads it.
  std::optional<int> rounding_shift;

  // One quantizer for every element (what most ops read).
  bool is_quantized() const { return quantizer.has_value(); }
  bool is_per_channel() const { return !channel_quantizers.empty(); }
  bool is_accumulator() const { return !is_quantized() && !is_per_channel(); }
  // An accumulator's weight scale in channel `channel`.
  double channel_weight_scale(size_t channel) const {
    return weight_scales.empty() ? weight_scale : weight_scales.at(channel);
  }
  // The quantizer of channel `channel` (quantized and per-channel tensors).
  const quant::UniformQuantizer& channel_quantizer(size_t channel) const;
  // The float value element `element` of a (shape-`shape`) tensor holding integer v stands for.
  double dequantize(const Shape& shape, size_t element, int64_t v) const;
};

struct GraphCompileOptions {
  quant::NBits n_bits = quant::NBits::uniform(3);
  std::optional<int> rounding_threshold_bits;               // keep this many bits of every accumulator a lookup reads
  RangeMeasure rounding_ranges = RangeMeasure::worst_case;  // ... of its worst-case or its seen range
  InputQuantization input_quantization = InputQuantization::per_channel;
  WeightQuantization weight_quantization = WeightQuantization::per_tensor;
  std::optional<AutoRoundingOptions> auto_rounding{};  // choose rounding_threshold_bits (auto_rounding.hpp)
};

// What an op's lowering may use: the builder, each tensor's calibration statistics, and the shared steps.
class LoweringContext {
 public:
  LoweringContext(const Graph& graph, const std::vector<quant::TensorStatistics>& statistics,
                  GraphCompileOptions options);
  ir::CircuitBuilder& builder() { return builder_; }
  const Graph& graph() const { return graph_; }
  const GraphCompileOptions& options() const { return options_; }
  const quant::TensorStatistics& statistics(size_t tensor) const { return statistics_.at(tensor); }
  SizeBudget& budget() { return budget_; }

  // The quantizer of a lookup's output tensor `tensor`: the given one of the Quant node that is its only reader
  // (quantization-aware models), else the asymmetric quantizer calibrated with the op-input bits.
  quant::UniformQuantizer activation_quantizer(size_t tensor) const;
  // The Quant node that alone reads tensor `tensor` (not a graph output), or nullptr.
  const GraphNode* sole_quant_reader(size_t tensor) const;
  // The calibration set as the circuit's input integers (the client's quantization), once the inputs are added:
  // what seen_range evaluates.
  void set_calibration_inputs(std::vector<int64_t> rows, size_t samples);
  // The range node `node` of the circuit built so far takes over the calibration inputs (all elements).
  ir::Range seen_range(ir::NodeId node) const;
  // A lookup per channel computing out.quantize(f(x)) from `in`. An accumulator is rounded first: by its trained
  // shift, or to rounding_threshold_bits of its worst-case or seen range (options().rounding_ranges); the round node
  // "<tensor>.round" is shared by the lookups that read it. `monotone`: f is non-decreasing (its tables may then be
  // trimmed).
  EncodedTensor add_lookup(const std::string& name, const EncodedTensor& in, const std::function<double(double)>& f,
                           bool monotone, const quant::UniformQuantizer& out);
  // `value` as a quantized tensor: itself when it is, else a lookup requantizing it with tensor `tensor`'s
  // calibrated activation quantizer (what a linear op needs to read it).
  EncodedTensor quantized(const std::string& name, const EncodedTensor& value, size_t tensor);
  // `value` as a quantized or per-channel tensor (what Gemm and Conv read: they fold the scales into their
  // weights): itself when it is one, else quantized(name, value, tensor).
  EncodedTensor linear_input(const std::string& name, const EncodedTensor& value, size_t tensor);
  // `value` requantized to `target` (itself when it already has that quantizer).
  EncodedTensor requantized(const std::string& name, const EncodedTensor& value, const quant::UniformQuantizer& target);
  // Records linear op accumulator `node` reading `in` with `weight_bits`-bit weights (for the precision check).
  void record_linear_op(ir::NodeId node, const EncodedTensor& in, int weight_bits);
  std::vector<LinearOpFacts> take_linear_ops() { return std::move(linear_ops_); }
  // The accumulators lookups read (those without a trained shift), once each, with their range bits and rounding.
  std::vector<RoundedAccumulator> take_rounded_accumulators() { return std::move(rounded_accumulators_); }
  // Accumulator `acc` rounded by `shift` (quant::round_msbs): the node "<tensor>.round", added once.
  ir::NodeId rounded(const EncodedTensor& acc, int shift);

 private:
  void record_rounding(const EncodedTensor& acc, const ir::Range& bound, int shift);

  const Graph& graph_;
  const std::vector<quant::TensorStatistics>& statistics_;
  GraphCompileOptions options_;
  ir::CircuitBuilder builder_;
  SizeBudget budget_;
  std::vector<std::vector<size_t>> readers_;  // per tensor, the nodes that read it
  std::map<std::pair<ir::NodeId, int>, ir::NodeId> round_nodes_;
  std::vector<LinearOpFacts> linear_ops_;
  std::vector<RoundedAccumulator> rounded_accumulators_;
  std::vector<int64_t> calibration_inputs_;  // samples x circuit input width
  size_t calibration_samples_ = 0;
};

class GraphOp {
 public:
  virtual ~GraphOp() = default;
  // The output shape; throws fhenn::Error naming the node and the fix for operands it cannot take.
  virtual Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const = 0;
  // The float reference for one sample.
  virtual FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                               const Shape& shape) const = 0;
  // Appends the op's circuit nodes; `tensor` is the op's own tensor index (its statistics, its shape).
  virtual EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                              LoweringContext& context) const = 0;
};

// The op registered under `name` (an ONNX op name, e.g. "Conv"), or nullptr.
const GraphOp* find_graph_op(std::string_view name);
// Every registered name, for messages.
std::string graph_op_names();

}  // namespace fhenn::compiler
