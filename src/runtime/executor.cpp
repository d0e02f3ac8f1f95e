// Executors and the clear executor (see executor.hpp).
#include "fhenn/runtime/executor.hpp"

#include <algorithm>
#include <mutex>

#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/ir/evaluate.hpp"

namespace fhenn::runtime {
namespace {

constexpr size_t kSamplesPerChunk = 256;

// Runs rows [begin, end) with one node-value buffer, recording into `seen` when given.
void run_rows(const ir::Circuit& circuit, const IntMatrix& inputs, IntMatrix& outputs, size_t begin, size_t end,
              ir::SeenRanges* seen) {
  std::vector<int64_t> node_values(circuit.node_values_size());
  for (size_t row = begin; row < end; ++row) {
    check_inputs(circuit, inputs.row(row), static_cast<long>(row));
    ir::evaluate_nodes(circuit, inputs.row(row), node_values);
    ir::gather_outputs(circuit, node_values, outputs.row(row));
    if (seen != nullptr) seen->observe(node_values);
  }
}

IntMatrix run_chunked(const ir::Circuit& circuit, const IntMatrix& inputs, int threads, ir::SeenRanges* seen) {
  FHENN_CHECK(inputs.cols == circuit.input_width(), "the circuit takes ", circuit.input_width(),
              " inputs per sample; the batch has ", inputs.cols);
  IntMatrix outputs(inputs.rows, circuit.output_width());
  const size_t chunks = (inputs.rows + kSamplesPerChunk - 1) / kSamplesPerChunk;
  std::mutex seen_mutex;
  parallel_for(chunks, threads, [&](size_t chunk, int) {
    const size_t begin = chunk * kSamplesPerChunk;
    const size_t end = std::min(inputs.rows, begin + kSamplesPerChunk);
    if (seen == nullptr) return run_rows(circuit, inputs, outputs, begin, end, nullptr);
    ir::SeenRanges local(circuit);
    run_rows(circuit, inputs, outputs, begin, end, &local);
    const std::lock_guard<std::mutex> lock(seen_mutex);
    seen->merge(local);
  });
  return outputs;
}

}  // namespace

IntMatrix Executor::run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) {
  IntMatrix outputs(inputs.rows, circuit.output_width());
  for (size_t row = 0; row < inputs.rows; ++row) {
    const auto out = run(circuit, inputs.row(row));
    std::copy(out.begin(), out.end(), outputs.row(row).begin());
  }
  return outputs;
}

std::vector<int64_t> Executor::run_as_batch(const ir::Circuit& circuit, std::span<const int64_t> inputs) {
  IntMatrix one(1, inputs.size());
  std::copy(inputs.begin(), inputs.end(), one.values.begin());
  return run_batch(circuit, one).values;
}

void check_inputs(const ir::Circuit& circuit, std::span<const int64_t> inputs, long sample) {
  const std::string where = sample >= 0 ? concat("sample ", sample, ": ") : std::string();
  FHENN_CHECK(inputs.size() == circuit.input_width(), where, "the circuit takes ", circuit.input_width(),
              " inputs, got ", inputs.size());
  size_t k = 0;
  for (ir::NodeId id : circuit.inputs()) {
    const ir::Node& node = circuit.node(id);
    const ir::Range range = std::get<ir::InputOp>(node.op).range;
    for (size_t i = 0; i < node.width; ++i, ++k) {
      FHENN_CHECK(range.contains(inputs[k]), where, "input '", node.name, "' element ", i, " is ", inputs[k],
                  ", outside its declared range [", range.min, ", ", range.max,
                  "]: quantize the features with the model's client quantizers");
    }
  }
}

std::vector<int64_t> ClearExecutor::run(const ir::Circuit& circuit, std::span<const int64_t> inputs) {
  check_inputs(circuit, inputs);
  std::vector<int64_t> node_values(circuit.node_values_size());
  ir::evaluate_nodes(circuit, inputs, node_values);
  std::vector<int64_t> outputs(circuit.output_width());
  ir::gather_outputs(circuit, node_values, outputs);
  return outputs;
}

IntMatrix ClearExecutor::run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) {
  return run_chunked(circuit, inputs, threads_, nullptr);
}

IntMatrix ClearExecutor::run_batch_observed(const ir::Circuit& circuit, const IntMatrix& inputs, ir::SeenRanges& seen) {
  return run_chunked(circuit, inputs, threads_, &seen);
}

std::vector<int64_t> run_clear(const ir::Circuit& circuit, std::span<const int64_t> inputs) {
  return ClearExecutor{}.run(circuit, inputs);
}

}  // namespace fhenn::runtime
