// Compiling a model graph to the integer circuit: calibration, the lowering context's shared steps, the client.
#include <algorithm>

#include "fhenn/common/bits.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/compiler/graph_ops.hpp"
#include "fhenn/compiler/tabulate.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/ranges.hpp"
#include "fhenn/quant/rounding.hpp"
#include "lowered_graph.hpp"

namespace fhenn::compiler {
namespace {

// Seen rounding ranges are measured on at most this many calibration samples (their integers are held in memory).
constexpr size_t kSeenRoundingSamples = 10000;

ir::Range hull(std::span<const ir::Range> ranges) {
  ir::Range all = ranges[0];
  for (const ir::Range& r : ranges) all = all.hull(r);
  return all;
}

OutputDequantization output_dequantization(const EncodedTensor& value, const Shape& shape, size_t element) {
  OutputDequantization out;
  if (!value.is_accumulator()) {
    out.quantizer = value.channel_quantizer(element / channel_size(shape));
    return out;
  }
  out.input_scale = value.input_scale;
  out.weight_scale = value.channel_weight_scale(element / channel_size(shape));
  out.bias = value.bias[element / channel_size(shape)];
  return out;
}

// Each channel's calibrated range (channel_size elements of the input, in order).
std::vector<quant::TensorStatistics> channel_statistics(const Matrix& calibration, size_t offset, const Shape& shape) {
  const size_t per_channel = channel_size(shape);
  std::vector<quant::TensorStatistics> stats(shape[0]);
  for (size_t row = 0; row < calibration.rows; ++row) {
    const auto features = calibration.row(row).subspan(offset, ir::shape_elements(shape));
    for (size_t c = 0; c < stats.size(); ++c) stats[c].observe(features.subspan(c * per_channel, per_channel));
  }
  return stats;
}

// `q` on the integer range of a (non-narrow) quantizer of signedness `is_signed`: the same floats, the integers and
// the zero point moved by 2^(bits-1), so that every channel of an input shares one integer range.
quant::UniformQuantizer with_signedness(quant::UniformQuantizer q, bool is_signed) {
  if (q.is_signed == is_signed) return q;
  const int64_t half = int64_t{1} << (q.bits - 1);
  q.zero_point += is_signed ? -half : half;
  q.is_signed = is_signed;
  return q;
}

bool is_output(const Graph& graph, size_t t) {
  for (const std::string& name : graph.outputs()) {
    if (graph.tensor_index(name) == t) return true;
  }
  return false;
}

// Whether every reader of tensor `t` folds per-channel scales into its weights (Gemm, Conv without a trained
// weight quantizer), directly or through Flatten and Reshape: only then do per-channel quantizers cost no
// requantizing lookup.
bool read_only_by_folding_ops(const Graph& graph, size_t t) {
  if (is_output(graph, t)) return false;
  for (size_t k = 0; k < graph.nodes().size(); ++k) {
    const auto& operands = graph.operands(k);
    if (std::find(operands.begin(), operands.end(), t) == operands.end()) continue;
    const GraphNode& node = graph.nodes()[k];
    const std::string& op = node.op;
    if ((op == "Gemm" || op == "Conv") && !node.quantizer) continue;
    if ((op == "Flatten" || op == "Reshape") && read_only_by_folding_ops(graph, graph.inputs().size() + k)) continue;
    return false;
  }
  return true;
}

// Graph input `t`: its client quantizers (one per channel, or one shared) and its circuit input node.
EncodedTensor add_graph_input(LoweringContext& context, const Matrix& calibration, size_t t, size_t offset,
                              ClientQuantization& client) {
  const GraphInput& in = context.graph().inputs()[t];
  const int bits = context.options().n_bits.model_inputs;
  EncodedTensor encoded;
  encoded.tensor = t;
  if (const GraphNode* quant = context.sole_quant_reader(t)) {
    encoded.quantizer = *quant->quantizer;  // a quantization-aware model's input quantizer
  } else if (context.options().input_quantization == InputQuantization::per_tensor || in.shape[0] == 1 ||
             !read_only_by_folding_ops(context.graph(), t)) {
    encoded.quantizer = quant::asymmetric_quantizer(context.statistics(t), bits);
  } else {
    const bool is_signed = context.statistics(t).rmin < 0.0;
    for (const auto& stats : channel_statistics(calibration, offset, in.shape)) {
      encoded.channel_quantizers.push_back(with_signedness(quant::asymmetric_quantizer(stats, bits), is_signed));
    }
  }
  const size_t per_channel = channel_size(in.shape);
  for (size_t i = 0; i < ir::shape_elements(in.shape); ++i) {
    client.inputs.push_back(encoded.channel_quantizer(i / per_channel));
  }
  // Every channel's quantizer has the same integer range (with_signedness).
  const quant::UniformQuantizer& first = encoded.channel_quantizer(0);
  encoded.node = context.builder().add_input(in.name, in.shape, {first.qmin(), first.qmax()});
  return encoded;
}

}  // namespace

std::vector<quant::TensorStatistics> calibrate_graph(const Graph& graph, const Matrix& calibration) {
  std::vector<quant::TensorStatistics> stats(graph.tensor_count());
  for (size_t row = 0; row < calibration.rows; ++row) {
    const auto tensors = graph.evaluate(calibration.row(row));
    for (size_t t = 0; t < tensors.size(); ++t) stats[t].observe(tensors[t].values);
  }
  return stats;
}

const quant::UniformQuantizer& EncodedTensor::channel_quantizer(size_t channel) const {
  FHENN_CHECK(!is_accumulator(), "an accumulator has no quantizer");
  return quantizer ? *quantizer : channel_quantizers.at(channel);
}

double EncodedTensor::dequantize(const Shape& shape, size_t element, int64_t v) const {
  if (!is_accumulator()) return channel_quantizer(element / channel_size(shape)).dequantize(v);
  const size_t channel = element / channel_size(shape);
  return dequantize_accumulator(v, 0, input_scale, channel_weight_scale(channel), bias[channel], Activation::identity);
}

LoweringContext::LoweringContext(const Graph& graph, const std::vector<quant::TensorStatistics>& statistics,
                                 GraphCompileOptions options)
    : graph_(graph),
      statistics_(statistics),
      options_(options),
      budget_(ir::kMaxCircuitElements, "the model graph's circuit"),
      readers_(graph.tensor_count()) {
  for (size_t k = 0; k < graph.nodes().size(); ++k) {
    for (size_t t : graph.operands(k)) readers_[t].push_back(k);
  }
}

const GraphNode* LoweringContext::sole_quant_reader(size_t tensor) const {
  if (readers_.at(tensor).size() != 1 || is_output(graph_, tensor)) return nullptr;
  const GraphNode& reader = graph_.nodes()[readers_[tensor][0]];
  return reader.op == "Quant" ? &reader : nullptr;
}

quant::UniformQuantizer LoweringContext::activation_quantizer(size_t tensor) const {
  if (const GraphNode* quant = sole_quant_reader(tensor)) return *quant->quantizer;
  return quant::asymmetric_quantizer(statistics(tensor), options_.n_bits.op_inputs);
}

ir::NodeId LoweringContext::rounded(const EncodedTensor& acc, int shift) {
  const auto [it, added] = round_nodes_.try_emplace({acc.node, shift}, 0);
  if (added) it->second = builder_.add_round(graph_.tensor_name(acc.tensor) + ".round", acc.node, shift);
  return it->second;
}

void LoweringContext::set_calibration_inputs(std::vector<int64_t> rows, size_t samples) {
  calibration_inputs_ = std::move(rows);
  calibration_samples_ = samples;
}

ir::Range LoweringContext::seen_range(ir::NodeId node) const {
  FHENN_CHECK(calibration_samples_ > 0, "seen ranges need the calibration inputs");
  // The circuit up to `node`, with `node` as its output.
  const auto& built = builder_.nodes();
  std::vector<ir::Node> prefix(built.begin(), built.begin() + static_cast<std::ptrdiff_t>(node) + 1);
  prefix.push_back(ir::Node{"seen", {node}, built[node].width, ir::OutputOp{}, {}});
  const ir::Circuit circuit = ir::Circuit::from_nodes(std::move(prefix));
  const int threads = default_thread_count();
  std::vector<std::vector<int64_t>> values(static_cast<size_t>(threads),
                                           std::vector<int64_t>(circuit.node_values_size()));
  std::vector<std::optional<ir::Range>> seen(static_cast<size_t>(threads));
  const size_t width = circuit.input_width();
  parallel_for(calibration_samples_, threads, [&](size_t row, int worker) {
    auto& node_values = values[static_cast<size_t>(worker)];
    ir::evaluate_nodes(circuit, std::span(calibration_inputs_).subspan(row * width, width), node_values);
    for (int64_t v : ir::node_slice(circuit, node, node_values)) {
      auto& range = seen[static_cast<size_t>(worker)];
      range = range ? range->hull({v, v}) : ir::Range{v, v};
    }
  });
  std::optional<ir::Range> all;
  for (const auto& r : seen) {
    if (r) all = all ? all->hull(*r) : *r;
  }
  return *all;
}

void LoweringContext::record_linear_op(ir::NodeId node, const EncodedTensor& in, int weight_bits) {
  LinearOpFacts facts{builder_.nodes()[node].name, 0, 0, weight_bits};
  const size_t channels = in.is_per_channel() ? in.channel_quantizers.size() : 1;
  for (size_t c = 0; c < channels; ++c) {
    const quant::UniformQuantizer& q = in.channel_quantizer(c);
    facts.input_min = c == 0 ? q.qmin() - q.zero_point : std::min(facts.input_min, q.qmin() - q.zero_point);
    facts.input_max = c == 0 ? q.qmax() - q.zero_point : std::max(facts.input_max, q.qmax() - q.zero_point);
  }
  linear_ops_.push_back(std::move(facts));
}

void LoweringContext::record_rounding(const EncodedTensor& acc, const ir::Range& bound, int shift) {
  const std::string& tensor = graph_.tensor_name(acc.tensor);
  for (const RoundedAccumulator& recorded : rounded_accumulators_) {
    if (recorded.tensor == tensor) return;
  }
  const int kept = range_bits(quant::round_msbs(bound.min, shift), quant::round_msbs(bound.max, shift));
  rounded_accumulators_.push_back({tensor, range_bits(bound.min, bound.max), kept, shift});
}

EncodedTensor LoweringContext::add_lookup(const std::string& name, const EncodedTensor& in,
                                          const std::function<double(double)>& f, bool monotone,
                                          const quant::UniformQuantizer& out) {
  const Shape shape = builder_.shape_of(in.node);
  ir::NodeId operand = in.node;
  int shift = 0;
  auto element_ranges = ir::worst_case_element_ranges(builder_.nodes());
  if (in.is_accumulator() && in.rounding_shift) {
    shift = *in.rounding_shift;  // trained with the network (rounding-aware QAT)
  } else if (in.is_accumulator()) {
    // Keep the most significant bits of the accumulator's range (the reference's rounding keeps those it saw).
    const bool seen = options_.rounding_threshold_bits && options_.rounding_ranges == RangeMeasure::seen;
    const ir::Range bound = seen ? seen_range(in.node) : hull(element_ranges[in.node]);
    if (options_.rounding_threshold_bits) {
      shift = quant::rounding_shift_for_range(bound.min, bound.max, *options_.rounding_threshold_bits);
    }
    record_rounding(in, bound, shift);
  }
  if (shift > 0) {
    operand = rounded(in, shift);
    element_ranges = ir::worst_case_element_ranges(builder_.nodes());  // with the round node
  }
  const auto& ranges = element_ranges[operand];
  const size_t per_channel = channel_size(shape);
  std::vector<ir::LookupTable> tables;
  for (size_t c = 0; c < ranges.size() / per_channel; ++c) {
    const ir::Range domain = hull(std::span(ranges).subspan(c * per_channel, per_channel));
    tables.push_back(tabulate(
        domain,
        [&](int64_t rounded) {
          const int64_t v = rounded * (int64_t{1} << shift);  // (L3): the rounded accumulator, rescaled
          return out.quantize(f(in.dequantize(shape, c * per_channel, v)));
        },
        monotone, "node '" + name + "'", budget_));
  }
  EncodedTensor result;
  result.node = builder_.add_table_lookup(name, operand, std::move(tables));
  result.tensor = in.tensor;
  result.quantizer = out;
  return result;
}

EncodedTensor LoweringContext::quantized(const std::string& name, const EncodedTensor& value, size_t tensor) {
  if (value.is_quantized()) return value;
  EncodedTensor q = add_lookup(
      name, value, [](double x) { return x; }, true, activation_quantizer(tensor));
  q.tensor = tensor;
  return q;
}

EncodedTensor LoweringContext::linear_input(const std::string& name, const EncodedTensor& value, size_t tensor) {
  return value.is_per_channel() ? value : quantized(name, value, tensor);
}

EncodedTensor LoweringContext::requantized(const std::string& name, const EncodedTensor& value,
                                           const quant::UniformQuantizer& target) {
  if (value.quantizer == target) return value;
  return add_lookup(
      name, value, [](double x) { return x; }, true, target);
}

GraphCompileOptions graph_options(const PtqOptions& options) {
  GraphCompileOptions graph;
  graph.n_bits = options.n_bits;
  graph.rounding_threshold_bits = options.rounding_threshold_bits;
  graph.rounding_ranges = options.rounding_ranges;
  graph.input_quantization = options.input_quantization;
  graph.weight_quantization = options.weight_quantization;
  graph.auto_rounding = options.auto_rounding;
  return graph;
}

CompiledModel compile_graph(const Graph& graph, const Matrix& calibration, const GraphCompileOptions& options) {
  quant::validate(options.n_bits);
  if (options.rounding_threshold_bits) {
    FHENN_CHECK(*options.rounding_threshold_bits >= 1 && *options.rounding_threshold_bits <= 40,
                "rounding_threshold_bits is ", *options.rounding_threshold_bits, ": must be 1..40");
    FHENN_CHECK(!options.auto_rounding, "rounding_threshold_bits is ", *options.rounding_threshold_bits,
                " and automatic rounding is on: choose one");
  }
  check_feature_rows(calibration, graph.input_features(), "calibration");
  if (options.auto_rounding) return compile_graph_auto_rounding(graph, calibration, options);
  return lower_graph(graph, calibration, calibrate_graph(graph, calibration), options, true).compiled;
}

LoweredGraph lower_graph(const Graph& graph, const Matrix& calibration,
                         const std::vector<quant::TensorStatistics>& statistics, const GraphCompileOptions& options,
                         bool measure_report) {
  LoweringContext context(graph, statistics, options);
  std::vector<EncodedTensor> encoded(graph.tensor_count());
  CompiledModel compiled;
  compiled.source = "ptq";
  compiled.rounding_threshold_bits = options.rounding_threshold_bits;
  for (size_t t = 0, offset = 0; t < graph.inputs().size(); offset += ir::shape_elements(graph.inputs()[t++].shape)) {
    encoded[t] = add_graph_input(context, calibration, t, offset, compiled.client);
  }
  if (options.rounding_ranges == RangeMeasure::seen) {
    const size_t samples = std::min(calibration.rows, kSeenRoundingSamples);
    const size_t width = compiled.client.inputs.size();
    std::vector<int64_t> inputs(samples * width);
    for (size_t row = 0; row < samples; ++row) {
      compiled.client.quantize_into(calibration.row(row), std::span(inputs).subspan(row * width, width));
    }
    context.set_calibration_inputs(std::move(inputs), samples);
  }
  for (size_t k = 0; k < graph.nodes().size(); ++k) {
    const size_t tensor = graph.inputs().size() + k;
    std::vector<EncodedTensor> operands;
    for (size_t o : graph.operands(k)) operands.push_back(encoded[o]);
    encoded[tensor] = find_graph_op(graph.nodes()[k].op)->lower(graph.nodes()[k], operands, tensor, context);
    encoded[tensor].tensor = tensor;
  }
  for (const std::string& name : graph.outputs()) {
    const size_t t = graph.tensor_index(name);
    EncodedTensor& out = encoded[t];
    int shift = 0;
    if (out.is_accumulator() && out.rounding_shift.value_or(0) > 0) {
      // A trained rounding with no lookup after it: the client scales the rounded accumulator back, (L5).
      shift = *out.rounding_shift;
      out.node = context.rounded(out, shift);
    }
    context.builder().add_output(graph.outputs().size() == 1 ? "output" : "output." + name, out.node);
    for (size_t i = 0; i < ir::shape_elements(graph.shape(t)); ++i) {
      compiled.client.outputs.push_back(output_dequantization(out, graph.shape(t), i));
      compiled.client.outputs.back().rounding_shift = shift;
    }
  }
  compiled.circuit = std::move(context.builder()).build();
  compiled.linear_ops = context.take_linear_ops();
  if (measure_report) compiled.report = measure_bit_widths(compiled, calibration);
  return {std::move(compiled), context.take_rounded_accumulators()};
}

}  // namespace fhenn::compiler
