// Saving and loading compiled models (see compile.hpp): circuit, client, linear-op facts and bit-width report.
#include <algorithm>
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
// 2: lookup index bits in the report; 3: shaped circuits; 4: linear-op facts instead of the dense integer model
constexpr uint32_t kCompiledFormatVersion = 4;
// The fewest bytes a quantizer, an output dequantization, a linear op's facts and a report node take.
constexpr size_t kMinQuantizerBytes = 8 + 1 + 1 + 8 + 8;
constexpr size_t kMinDequantizationBytes = 8 + 8 + 8 + 8 + 1 + 1;
constexpr size_t kMinLinearOpBytes = 8 + 8 + 8 + 8;
constexpr size_t kMinReportNodeBytes = 8 + 8 + 1 + 8 + 6 * 8 + 1 + 1 + 8 + 8;

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

void write_linear_op(ByteWriter& out, const LinearOpFacts& op) {
  out.str(op.node);
  out.i64(op.input_min);
  out.i64(op.input_max);
  out.i64(op.weight_bits);
}

LinearOpFacts read_linear_op(ByteReader& in) {
  LinearOpFacts op;
  op.node = in.str(4096);
  op.input_min = in.i64();
  op.input_max = in.i64();
  op.weight_bits = read_small_int(in, 30, "a weight bit count");
  return op;
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

// The parts must describe one model: the client and the report match the circuit (which read_circuit verified),
// every output's dequantization is finite, and each linear op's facts name one of the circuit's linear nodes.
void check_consistent(const CompiledModel& c, const std::string& what) {
  FHENN_CHECK(c.client.inputs.size() == c.circuit.input_width() &&
                  c.client.outputs.size() == c.circuit.output_width() &&
                  c.report.nodes.size() == c.circuit.nodes().size(),
              what, " is inconsistent: the client, the report and the circuit disagree on their sizes");
  for (size_t i = 0; i < c.client.outputs.size(); ++i) {
    const OutputDequantization& d = c.client.outputs[i];
    FHENN_CHECK(std::isfinite(d.input_scale) && d.input_scale > 0.0 && std::isfinite(d.weight_scale) &&
                    d.weight_scale > 0.0 && std::isfinite(d.bias),
                what, " is corrupted: output ", i, " has the dequantization scales ", d.input_scale, " and ",
                d.weight_scale, " and the bias ", d.bias, "; compile the model again");
  }
  const auto is_linear_node = [&](const std::string& name) {
    return std::any_of(c.circuit.nodes().begin(), c.circuit.nodes().end(), [&](const ir::Node& node) {
      return node.name == name && (node.kind() == ir::OpKind::dot_product || node.kind() == ir::OpKind::conv2d);
    });
  };
  for (const LinearOpFacts& op : c.linear_ops) {
    FHENN_CHECK(is_linear_node(op.node) && op.input_min <= op.input_max && op.weight_bits >= 1, what,
                " is inconsistent: its facts about linear op '", op.node,
                "' do not match its circuit; compile the model again");
  }
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
  out.u64(compiled.linear_ops.size());
  for (const auto& op : compiled.linear_ops) write_linear_op(out, op);
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
  c.linear_ops.resize(in.count(c.circuit.nodes().size(), kMinLinearOpBytes));
  for (auto& op : c.linear_ops) op = read_linear_op(in);
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
