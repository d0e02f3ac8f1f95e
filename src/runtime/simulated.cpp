// The simulated executor (see simulated.hpp).
#include "fhenn/runtime/simulated.hpp"

#include <cmath>
#include <numbers>

#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/tfhe/noise.hpp"

namespace fhenn::runtime {
namespace {

// SplitMix64: a fast, well-mixed generator for simulated noise. Simulation protects no data, so a
// non-cryptographic generator is right here (the encrypted path uses tfhe::Csprng).
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1p-53; }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - unit();
    const double u2 = unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
};

// (S2): the table entry a bootstrap reads at index j (wrapping negacyclically outside [0, 2^r)).
int64_t read_table(const ir::LookupTable& table, int64_t index_min, int64_t j, int index_bits) {
  const int64_t size = int64_t{1} << index_bits;
  const int64_t wrapped = ((j % (2 * size)) + 2 * size) % (2 * size);
  return wrapped < size ? table.at(index_min + wrapped) : -table.at(index_min + wrapped - size);
}

}  // namespace

SimulatedExecutor::SimulatedExecutor(const ir::Circuit& circuit, EnginePlan plan, uint64_t seed, int threads,
                                     double noise_scale)
    : circuit_(circuit), plan_(std::move(plan)), seed_(seed), threads_(std::max(threads, 1)) {
  FHENN_CHECK(plan_.encoding_bits.size() == circuit.nodes().size(),
              "the engine plan was made for another circuit: compile and plan again");
  for (const auto& lookup : plan_.lookups) {
    const double units_per_torus = std::ldexp(1.0, lookup.lookup_bits() + 1);
    auto& sigmas = sigma_.emplace_back();
    for (double norm : lookup.squared_norms) {
      sigmas.push_back(noise_scale * tfhe::noise::pbs_input_stddev(plan_.params, norm) * units_per_torus);
    }
  }
  for (double sigma : plan_.output_error_stddev) output_sigma_.push_back(noise_scale * sigma);
}

void SimulatedExecutor::run_sample(std::span<const int64_t> inputs, uint64_t sample_seed,
                                   std::span<int64_t> node_values, std::span<int64_t> outputs) const {
  SplitMix64 rng{sample_seed};
  size_t offset = 0;
  for (ir::NodeId id : circuit_.inputs()) {
    const size_t width = circuit_.node(id).width;
    std::copy_n(inputs.begin() + static_cast<std::ptrdiff_t>(offset), width,
                node_values.begin() + static_cast<std::ptrdiff_t>(circuit_.value_offset(id)));
    offset += width;
  }
  size_t lookup_index = 0;
  for (ir::NodeId id = 0; id < circuit_.nodes().size(); ++id) {
    const ir::Node& node = circuit_.node(id);
    if (node.kind() == ir::OpKind::input) continue;
    if (node.kind() != ir::OpKind::table_lookup) {  // exact, as encrypted (rounding happens in the lookup)
      ir::evaluate_node(circuit_, id, node_values);
      continue;
    }
    const LookupPlan& lookup = plan_.lookups[lookup_index];
    const auto& sigmas = sigma_[lookup_index];
    ++lookup_index;
    const auto& op = std::get<ir::TableLookupOp>(node.op);
    const auto out = node_values.subspan(circuit_.value_offset(id), node.width);
    const auto operand = ir::node_slice(circuit_, node.operands[0], node_values);
    const auto accumulator = ir::node_slice(circuit_, lookup.accumulator, node_values);
    const double box = std::ldexp(1.0, lookup.shift);
    const double tie_offset = lookup.shift > 0 ? 0.5 : 0.0;  // (E2): half a unit away from every boundary
    for (size_t i = 0; i < node.width; ++i) {
      const size_t t = ir::table_index(op, node.width, i);
      if (lookup.constant[i]) {  // folded: exact, like the clear executor
        out[i] = op.tables[t].at(operand[i]);
        continue;
      }
      const double phase = static_cast<double>(accumulator[i] - (lookup.index_min[t] << lookup.shift)) + tie_offset +
                           sigmas[i] * rng.normal();
      const auto j = static_cast<int64_t>(std::floor(phase / box + 0.5));
      out[i] = read_table(op.tables[t], lookup.index_min[t], j, lookup.index_bits);
    }
  }
  ir::gather_outputs(circuit_, node_values, outputs);
  // (E6): outputs decoded approximately carry their decryption error (rounded to the nearest integer).
  for (size_t k = 0; k < output_sigma_.size(); ++k) {
    const double sigma = output_sigma_[k];
    if (sigma > 0.0) outputs[k] += static_cast<int64_t>(std::nearbyint(sigma * rng.normal()));
  }
}

std::vector<int64_t> SimulatedExecutor::run(const ir::Circuit& circuit, std::span<const int64_t> inputs) {
  return run_as_batch(circuit, inputs);
}

IntMatrix SimulatedExecutor::run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) {
  FHENN_CHECK(&circuit == &circuit_ || circuit == circuit_, "this simulated executor was built for another circuit");
  FHENN_CHECK(inputs.cols == circuit_.input_width(), "expected ", circuit_.input_width(), " inputs per sample, got ",
              inputs.cols);
  IntMatrix out(inputs.rows, circuit_.output_width());
  std::vector<std::vector<int64_t>> buffers(static_cast<size_t>(threads_),
                                            std::vector<int64_t>(circuit_.node_values_size()));
  const uint64_t first = samples_run_;
  parallel_for(inputs.rows, threads_, [&](size_t s, int worker) {
    check_inputs(circuit_, inputs.row(s), static_cast<long>(s));
    SplitMix64 mixer{seed_ ^ (0x632be59bd9b4e019ULL * (first + s + 1))};
    run_sample(inputs.row(s), mixer.next(), buffers[static_cast<size_t>(worker)], out.row(s));
  });
  samples_run_ += inputs.rows;
  return out;
}

}  // namespace fhenn::runtime
