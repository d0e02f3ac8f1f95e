// Saving and loading compiled models (see compile.hpp): circuit, client, integer model and bit-width report.
#include <cmath>
#include <cstring>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/ir/serialize.hpp"

namespace fhenn::compiler {
namespace {

constexpr const char* kCompiledArtifactKind = "fhenn-compiled-model";
constexpr uint32_t kCompiledFormatVersion = 3;  // 2: lookup index bits in the report; 3: shaped circuits
// The fewest bytes a quantizer, an output dequantization, an integer layer and a report node take.
constexpr size_t kMinQuantizerBytes = 8 + 1 + 1 + 8 + 8;
constexpr size_t kMinDequantizationBytes = 8 + 8 + 8 + 8 + 1 + 1;
constexpr size_t kMinLayerBytes = 8 + 8 + 8 + 8 + 2 * kMinQuantizerBytes + 8 + 1 + 8 + 1;
constexpr size_t kMinReportNodeBytes = 8 + 8 + 1 + 8 + 6 * 8 + 1 + 1 + 8 + 8;
constexpr uint64_t kMaxLayers = 4096;

int read_small_int(ByteReader& in, int64_t max, const char* field) {
  const int64_t v = in.i64();
  FHENN_CHECK(v >= 0 && v <= max, in.what(), " is corrupted: ", field, " is ", v);
  return static_cast<int>(v);
}

Activation read_activation(ByteReader& in) {
  const uint8_t code = in.u8();
  FHENN_CHECK(code <= static_cast<uint8_t>(Activation::relu), in.what(), " is corrupted: activation code ", int{code});
  return static_cast<Activation>(code);
}

}  // namespace

void write_output_dequantization(ByteWriter& out, const OutputDequantization& d) {
  out.f64(d.input_scale);
  out.f64(d.weight_scale);
  out.f64(d.bias);
  out.i64(d.rounding_shift);
  out.u8(static_cast<uint8_t>(d.activation));
  write_optional_quantizer(out, d.quantizer);
}

OutputDequantization read_output_dequantization(ByteReader& in) {
  OutputDequantization d;
  d.input_scale = in.f64();
  d.weight_scale = in.f64();
  d.bias = in.f64();
  d.rounding_shift = read_small_int(in, 40, "a rounding shift");
  d.activation = read_activation(in);
  d.quantizer = read_optional_quantizer(in);
  return d;
}

namespace {

void write_layer(ByteWriter& out, const QuantizedLayer& layer) {
  out.str(layer.name);
  out.i64(layer.in_features);
  out.i64(layer.out_features);
  out.vec(layer.weights);
  write_quantizer(out, layer.input_quantizer);
  write_quantizer(out, layer.weight_quantizer);
  out.vec(layer.bias);
  out.u8(static_cast<uint8_t>(layer.activation));
  out.i64(layer.rounding_shift);
  write_optional_quantizer(out, layer.output_quantizer);
}

QuantizedLayer read_layer(ByteReader& in, SizeBudget& budget) {
  QuantizedLayer layer;
  layer.name = in.str(4096);
  layer.in_features = read_small_int(in, 1 << 24, "a layer size");
  layer.out_features = read_small_int(in, 1 << 24, "a layer size");
  layer.weights = in.vec<int64_t>(ir::kMaxCircuitElements, budget);
  layer.input_quantizer = read_quantizer(in);
  layer.weight_quantizer = read_quantizer(in);
  layer.bias = in.vec<double>(ir::kMaxCircuitElements, budget);
  layer.activation = read_activation(in);
  layer.rounding_shift = read_small_int(in, 40, "a rounding shift");
  layer.output_quantizer = read_optional_quantizer(in);
  return layer;
}

void write_report(ByteWriter& out, const ir::BitWidthReport& report) {
  out.u64(report.samples);
  out.u64(report.nodes.size());
  for (const ir::NodeBitWidth& n : report.nodes) {
    out.u64(n.node);
    out.str(n.name);
    out.u8(static_cast<uint8_t>(n.kind));
    out.u64(n.width);
    for (int64_t v : {n.seen.min, n.seen.max, int64_t{n.seen_bits}, n.worst_case.min, n.worst_case.max,
                      int64_t{n.worst_case_bits}}) {
      out.i64(v);
    }
    out.u8(n.feeds_table_lookup ? 1 : 0);
    out.u8(n.is_integer_node ? 1 : 0);
    out.i64(n.seen_index_bits);
    out.i64(n.worst_case_index_bits);
  }
  for (int v : {report.accumulator_bits, report.worst_case_accumulator_bits, report.max_lookup_input_bits,
                report.worst_case_max_lookup_input_bits, report.max_lookup_index_bits,
                report.worst_case_max_lookup_index_bits}) {
    out.i64(v);
  }
}

// A count that must equal what the circuit already read says (checked before anything is allocated for it).
uint64_t read_count_matching(ByteReader& in, size_t expected, size_t min_element_bytes, const char* what) {
  const uint64_t n = in.count(ir::kMaxCircuitElements, min_element_bytes);
  FHENN_CHECK(n == expected, in.what(), " is inconsistent: it has ", n, " ", what, " where its circuit has ", expected,
              ": the file is corrupted; compile the model again");
  return n;
}

ir::BitWidthReport read_report(ByteReader& in, const ir::Circuit& circuit) {
  ir::BitWidthReport report;
  report.samples = in.u64();
  report.nodes.resize(read_count_matching(in, circuit.nodes().size(), kMinReportNodeBytes, "bit-width report nodes"));
  for (ir::NodeBitWidth& n : report.nodes) {
    n.node = static_cast<ir::NodeId>(in.u64());
    n.name = in.str(4096);
    const uint8_t kind = in.u8();
    FHENN_CHECK(kind < ir::kOpKindCount, in.what(), " is corrupted: op code ", int{kind});
    n.kind = static_cast<ir::OpKind>(kind);
    n.width = in.u64();
    n.seen = {in.i64(), 0};
    n.seen.max = in.i64();
    n.seen_bits = read_small_int(in, 64, "a bit width");
    n.worst_case = {in.i64(), 0};
    n.worst_case.max = in.i64();
    n.worst_case_bits = read_small_int(in, 64, "a bit width");
    n.feeds_table_lookup = in.u8() != 0;
    n.is_integer_node = in.u8() != 0;
    n.seen_index_bits = read_small_int(in, 64, "a bit width");
    n.worst_case_index_bits = read_small_int(in, 64, "a bit width");
  }
  report.accumulator_bits = read_small_int(in, 64, "a bit width");
  report.worst_case_accumulator_bits = read_small_int(in, 64, "a bit width");
  report.max_lookup_input_bits = read_small_int(in, 64, "a bit width");
  report.worst_case_max_lookup_input_bits = read_small_int(in, 64, "a bit width");
  report.max_lookup_index_bits = read_small_int(in, 64, "a bit width");
  report.worst_case_max_lookup_index_bits = read_small_int(in, 64, "a bit width");
  return report;
}

// Whether (L1)'s zero-point constant of neuron i, -z * sum_j W[i][j], fits in 62 bits.
bool zero_point_constant_fits(const QuantizedLayer& layer, size_t i) {
  const auto in = static_cast<size_t>(layer.in_features);
  int64_t row_sum = 0;
  for (size_t j = 0; j < in; ++j) {
    if (__builtin_add_overflow(row_sum, layer.weights[i * in + j], &row_sum)) return false;
  }
  int64_t constant = 0;
  constexpr int64_t kLimit = int64_t{1} << 62;
  return !__builtin_mul_overflow(-layer.input_quantizer.zero_point, row_sum, &constant) && constant > -kLimit &&
         constant < kLimit;
}

// What lower_to_circuit takes for granted of an integer model and a file does not guarantee: every weight in
// its quantizer's range, finite biases, and (L1)'s zero-point constants within 62 bits.
void check_integer_values(const QuantizedLayer& layer, const std::string& what) {
  const int64_t qmin = layer.weight_quantizer.qmin();
  const int64_t qmax = layer.weight_quantizer.qmax();
  for (size_t k = 0; k < layer.weights.size(); ++k) {
    FHENN_CHECK(layer.weights[k] >= qmin && layer.weights[k] <= qmax, what, " is corrupted: weight ", k, " of layer ",
                layer.name, " is ", layer.weights[k], ", outside its ", layer.weight_quantizer.bits,
                "-bit quantizer's range [", qmin, ", ", qmax, "]; compile the model again");
  }
  for (size_t i = 0; i < layer.bias.size(); ++i) {
    FHENN_CHECK(std::isfinite(layer.bias[i]), what, " is corrupted: bias ", i, " of layer ", layer.name, " is ",
                layer.bias[i], "; compile the model again");
  }
  if (layer.in_features < 1 ||
      layer.weights.size() != static_cast<size_t>(layer.in_features) * static_cast<size_t>(layer.out_features)) {
    return;  // lower_to_circuit refuses the shapes
  }
  for (size_t i = 0; i < static_cast<size_t>(layer.out_features); ++i) {
    FHENN_CHECK(zero_point_constant_fits(layer, i), what, " is corrupted: neuron ", i, " of layer ", layer.name,
                " needs a zero-point constant beyond 62 bits; compile the model again");
  }
}

// The parts must describe one model: the circuit is the lowering of the integer model, the client matches.
void check_consistent(const CompiledModel& c, const std::string& what) {
  FHENN_CHECK(!c.quantized.layers.empty(), what, " is corrupted: the integer model has no layers");
  FHENN_CHECK(c.client.inputs.size() == c.circuit.input_width() &&
                  c.client.outputs.size() == c.circuit.output_width() &&
                  c.report.nodes.size() == c.circuit.nodes().size(),
              what, " is inconsistent: the client, the report and the circuit disagree on their sizes");
  for (const QuantizedLayer& layer : c.quantized.layers) check_integer_values(layer, what);
  bool same = false;
  try {
    same = lower_to_circuit(c.quantized) == c.circuit;
  } catch (const Error& e) {
    fail(what, " is inconsistent: its integer model is invalid: ", e.what());
  }
  FHENN_CHECK(same, what, " is inconsistent: its circuit is not the lowering of its integer model");
}

}  // namespace

std::vector<uint8_t> serialize_compiled(const CompiledModel& compiled) {
  ByteWriter out;
  out.str(compiled.source);
  out.u8(compiled.rounding_threshold_bits ? 1 : 0);
  out.i64(compiled.rounding_threshold_bits.value_or(0));
  ir::write_circuit(out, compiled.circuit);
  out.u64(compiled.client.inputs.size());
  for (const auto& q : compiled.client.inputs) write_quantizer(out, q);
  out.u64(compiled.client.outputs.size());
  for (const auto& d : compiled.client.outputs) write_output_dequantization(out, d);
  out.i64(compiled.quantized.input_size);
  out.u64(compiled.quantized.layers.size());
  for (const auto& layer : compiled.quantized.layers) write_layer(out, layer);
  write_report(out, compiled.report);
  return seal_artifact(kCompiledArtifactKind, kCompiledFormatVersion, out.bytes());
}

CompiledModel deserialize_compiled(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kCompiledArtifactKind, kCompiledFormatVersion, what);
  ByteReader in(payload, what);
  CompiledModel c;
  c.source = in.str(64);
  const bool has_rounding = in.u8() != 0;
  const int rounding_bits = read_small_int(in, 40, "rounding_threshold_bits");
  if (has_rounding) c.rounding_threshold_bits = rounding_bits;
  c.circuit = ir::read_circuit(in);
  c.client.inputs.resize(read_count_matching(in, c.circuit.input_width(), kMinQuantizerBytes, "input quantizers"));
  for (auto& q : c.client.inputs) q = read_quantizer(in);
  c.client.outputs.resize(
      read_count_matching(in, c.circuit.output_width(), kMinDequantizationBytes, "output dequantizations"));
  for (auto& d : c.client.outputs) d = read_output_dequantization(in);
  c.quantized.input_size = read_small_int(in, 1 << 24, "the input size");
  c.quantized.layers.resize(in.count(kMaxLayers, kMinLayerBytes));
  SizeBudget budget(ir::kMaxCircuitElements, concat("the integer model in ", what));
  for (auto& layer : c.quantized.layers) layer = read_layer(in, budget);
  c.report = read_report(in, c.circuit);
  in.expect_end();
  check_consistent(c, what);
  return c;
}

void save_compiled(const CompiledModel& compiled, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_compiled(compiled));
}

CompiledModel load_compiled(const std::filesystem::path& path) {
  return deserialize_compiled(read_file_bytes(path, "compiled model"), "compiled model '" + path.string() + "'");
}

}  // namespace fhenn::compiler
