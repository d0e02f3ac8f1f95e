// Embedding an engine plan in deployment artifacts (see engine_plan_io.hpp).
#include "fhenn/runtime/engine_plan_io.hpp"

#include <cmath>

#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/serialization.hpp"

namespace fhenn::runtime {
namespace {

constexpr size_t kMaxNodes = 1 << 20;
constexpr size_t kMaxElements = 1 << 24;

}  // namespace

void write_plan(ByteWriter& out, const EnginePlan& plan) {
  out.vec(tfhe::serialize_parameters(plan.params));
  out.u8(static_cast<uint8_t>(plan.ranges));
  out.vec(std::vector<int64_t>(plan.encoding_bits.begin(), plan.encoding_bits.end()));
  out.u64(plan.lookups.size());
  for (const auto& l : plan.lookups) {
    out.u32(l.node);
    out.u32(l.accumulator);
    out.i64(l.shift);
    out.i64(l.index_bits);
    out.i64(l.output_encoding_bits);
    out.vec(l.index_min);
    out.vec(l.squared_norms);
    std::vector<uint8_t> constant(l.constant.begin(), l.constant.end());
    out.vec(constant);
  }
  out.i64(plan.max_index_bits);
  out.f64(plan.max_squared_weight_norm);
  out.u64(plan.bootstraps_per_sample);
  out.f64(plan.p_error_per_lookup);
  out.f64(plan.predicted_failure_per_lookup);
  out.f64(plan.predicted_failure_per_output);
  out.i64(plan.output_bits);
  out.vec(plan.output_error_stddev);
}

EnginePlan read_plan(ByteReader& in, const ir::Circuit& circuit) {
  EnginePlan plan;
  const auto params = in.vec<uint8_t>(1 << 16);
  plan.params = tfhe::deserialize_parameters(params, in.what());
  const uint8_t ranges = in.u8();
  FHENN_CHECK(ranges <= 1, in.what(), " is corrupted: unknown range source ", int{ranges});
  plan.ranges = static_cast<RangeSource>(ranges);
  const auto encodings = in.vec<int64_t>(kMaxNodes);
  FHENN_CHECK(encodings.size() == circuit.nodes().size(), in.what(), " plans ", encodings.size(),
              " nodes but the circuit has ", circuit.nodes().size(), ": the parts belong to different models");
  for (int64_t w : encodings) {
    FHENN_CHECK(w >= 0 && w <= 62, in.what(), " is corrupted: encoding of ", w, " bits");
    plan.encoding_bits.push_back(static_cast<int>(w));
  }
  const uint64_t lookups = in.count(kMaxNodes, 1);
  for (uint64_t k = 0; k < lookups; ++k) {
    LookupPlan l;
    l.node = in.u32();
    l.accumulator = in.u32();
    l.shift = static_cast<int>(in.i64());
    l.index_bits = static_cast<int>(in.i64());
    l.output_encoding_bits = static_cast<int>(in.i64());
    l.index_min = in.vec<int64_t>(kMaxElements);
    l.squared_norms = in.vec<double>(kMaxElements);
    const auto constant = in.vec<uint8_t>(kMaxElements);
    l.constant.assign(constant.begin(), constant.end());
    const bool is_lookup = l.node < circuit.nodes().size() && circuit.node(l.node).kind() == ir::OpKind::table_lookup;
    const size_t width = is_lookup ? circuit.node(l.node).width : 0;
    const size_t tables = is_lookup ? std::get<ir::TableLookupOp>(circuit.node(l.node).op).tables.size() : 0;
    FHENN_CHECK(is_lookup && l.accumulator < circuit.nodes().size() && l.index_min.size() == tables &&
                    l.squared_norms.size() == width && l.constant.size() == width && l.shift >= 0 && l.shift <= 62 &&
                    l.index_bits >= 1 && l.index_bits <= 16 && l.output_encoding_bits >= 1 &&
                    l.output_encoding_bits <= 62 && plan.encoding_bits[l.accumulator] >= l.lookup_bits(),
                in.what(), " has a lookup plan that does not match the circuit: the parts belong to different models");
    l.input_scale_shift = plan.encoding_bits[l.accumulator] - l.lookup_bits();
    plan.lookups.push_back(std::move(l));
  }
  plan.max_index_bits = static_cast<int>(in.i64());
  plan.max_squared_weight_norm = in.f64();
  plan.bootstraps_per_sample = in.u64();
  plan.p_error_per_lookup = in.f64();
  plan.predicted_failure_per_lookup = in.f64();
  plan.predicted_failure_per_output = in.f64();
  const int64_t output_bits = in.i64();
  FHENN_CHECK(output_bits >= 0 && output_bits <= 62, in.what(), " is corrupted: ", output_bits, " output bits");
  plan.output_bits = static_cast<int>(output_bits);
  plan.output_error_stddev = in.vec<double>(kMaxElements);
  FHENN_CHECK(plan.output_error_stddev.empty() || plan.output_error_stddev.size() == circuit.output_width(), in.what(),
              " has output errors for ", plan.output_error_stddev.size(), " outputs but the circuit has ",
              circuit.output_width(), ": the parts belong to different models");
  for (double sigma : plan.output_error_stddev) {
    FHENN_CHECK(std::isfinite(sigma) && sigma >= 0.0, in.what(), " is corrupted: an output error of ", sigma);
  }
  return plan;
}

}  // namespace fhenn::runtime
