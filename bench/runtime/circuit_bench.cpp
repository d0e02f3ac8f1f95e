// Google Benchmark targets of shaped circuits: a small CNN and its ops encrypted (bootstraps and time per sample),
// and the memory of a compiled convolution against its dense Toeplitz equivalent.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>

#include "fhenn/compiler/graph_compile.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/runtime/encrypted.hpp"
#include "fhenn/tfhe/keys.hpp"

namespace fhenn {
namespace {

using compiler::GraphNode;
using compiler::ModelGraph;

std::vector<double> random_weights(size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 0.4);
  std::vector<double> v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

GraphNode conv_node(std::string name, std::string input, size_t in_channels, size_t out_channels, size_t kernel,
                    std::mt19937_64& rng) {
  GraphNode conv = compiler::graph_node(std::move(name), "Conv", {std::move(input)});
  const auto k = static_cast<int64_t>(kernel);
  const int64_t pad = k / 2;
  conv.weight = random_weights(out_channels * in_channels * kernel * kernel, rng);
  conv.bias = random_weights(out_channels, rng);
  conv.ints = {{"kernel_shape", {k, k}}, {"pads", {pad, pad, pad, pad}}};
  return conv;
}

// The fixed CNN: 1x6x6 -> conv 3x3 (2 channels) -> relu -> conv 3x3 -> add -> relu -> max pool 2x2 -> flatten
// -> gemm (2 scores), or one of its ops alone ("conv_relu", "add", "max_pool").
ModelGraph bench_graph(const std::string& which) {
  std::mt19937_64 rng(7);
  GraphNode pool = compiler::graph_node("pool", "MaxPool", {"relu1"});
  pool.ints = {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}};
  if (which == "conv_relu") {
    return {{{"x", {1, 6, 6}}},
            {conv_node("conv1", "x", 1, 2, 3, rng), compiler::graph_node("relu1", "Relu", {"conv1"})},
            {"relu1"}};
  }
  if (which == "max_pool") {
    return {{{"x", {2, 6, 6}}}, {compiler::graph_node("relu1", "Relu", {"x"}), pool}, {"pool"}};
  }
  if (which == "add") {
    return {{{"x", {2, 6, 6}}, {"y", {2, 6, 6}}}, {compiler::graph_node("sum", "Add", {"x", "y"})}, {"sum"}};
  }
  GraphNode fc = compiler::graph_node("fc", "Gemm", {"flat"});
  fc.weight = random_weights(2 * 18, rng);
  pool.inputs = {"relu2"};
  return {{{"x", {1, 6, 6}}},
          {conv_node("conv1", "x", 1, 2, 3, rng), compiler::graph_node("relu1", "Relu", {"conv1"}),
           conv_node("conv2", "relu1", 2, 2, 3, rng), compiler::graph_node("residual", "Add", {"conv2", "relu1"}),
           compiler::graph_node("relu2", "Relu", {"residual"}), pool, compiler::graph_node("flat", "Flatten", {"pool"}),
           fc},
          {"fc"}};
}

struct Prepared {
  compiler::CompiledModel compiled;
  runtime::EnginePlan plan;
  std::unique_ptr<tfhe::ClientKey> client;
  std::unique_ptr<tfhe::ServerKey> server;
  std::vector<tfhe::LweCiphertext> inputs;  // one sample
};

const Prepared& prepared(const std::string& which) {
  static std::map<std::string, std::unique_ptr<Prepared>> cache;
  auto& slot = cache[which];
  if (slot) return *slot;
  const compiler::Graph graph = compiler::Graph::build(bench_graph(which));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> pixel(0.0, 1.0);
  Matrix calibration(32, graph.input_features());
  for (double& v : calibration.values) v = pixel(rng);
  compiler::GraphCompileOptions options;
  options.n_bits = quant::NBits{2, 2, 2, 5};
  slot = std::make_unique<Prepared>();
  slot->compiled = compiler::compile_graph(graph, calibration, options);
  slot->plan = runtime::plan_for_engine(slot->compiled.circuit, {});
  tfhe::Csprng csprng = tfhe::Csprng::from_os();
  slot->client = std::make_unique<tfhe::ClientKey>(tfhe::ClientKey::generate(slot->plan.params, csprng));
  slot->server = std::make_unique<tfhe::ServerKey>(tfhe::ServerKey::generate(*slot->client, csprng));
  slot->inputs = runtime::encrypt_inputs(slot->compiled.circuit, slot->plan, *slot->client,
                                         slot->compiled.client.quantize(calibration.row(0)), csprng);
  return *slot;
}

// Encrypted time per sample on one thread, with the bootstraps per sample and the parameter set.
void BM_EncryptedCircuit(benchmark::State& state, const std::string& which) {
  const Prepared& p = prepared(which);
  const runtime::EncryptedEvaluator evaluator(p.compiled.circuit, p.plan, *p.server, 1);
  for (auto _ : state) benchmark::DoNotOptimize(evaluator.evaluate(p.inputs));
  state.counters["bootstraps_per_sample"] = static_cast<double>(p.plan.bootstraps_per_sample);
  state.counters["max_lookup_bits"] = p.plan.max_index_bits;
  state.SetLabel(p.plan.params.name);
}
BENCHMARK_CAPTURE(BM_EncryptedCircuit, small_cnn, std::string("small_cnn"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncryptedCircuit, conv_relu, std::string("conv_relu"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncryptedCircuit, max_pool, std::string("max_pool"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncryptedCircuit, add, std::string("add"))->Unit(benchmark::kMillisecond);

// A 3x3 convolution, 8 -> 16 channels on 28x28 maps: the serialized circuit against the kernel's own bytes and
// the dense Toeplitz matrix a flat circuit would hold, and the time to evaluate it in the clear.
void BM_ConvCircuitMemory(benchmark::State& state) {
  std::mt19937_64 rng(1);
  ir::Conv2dOp op;
  op.out_channels = 16;
  op.kernel_h = op.kernel_w = 3;
  op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = 1;
  op.kernel.resize(16 * 8 * 9);
  for (auto& w : op.kernel) w = static_cast<int64_t>(rng() % 7) - 3;
  ir::CircuitBuilder b;
  const ir::NodeId x = b.add_input("x", ir::Shape{8, 28, 28}, {0, 7});
  b.add_output("y", b.add_conv2d("conv", x, op));
  const ir::Circuit circuit = std::move(b).build();
  std::vector<int64_t> inputs(circuit.input_width(), 3);
  std::vector<int64_t> values(circuit.node_values_size());
  for (auto _ : state) {
    ir::evaluate_nodes(circuit, inputs, values);
    benchmark::DoNotOptimize(values.data());
  }
  const double kernel_bytes = static_cast<double>(op.kernel.size() * sizeof(int64_t));
  const double toeplitz_bytes = 16.0 * 784 * 8 * 784 * sizeof(int64_t);
  state.counters["circuit_bytes"] = static_cast<double>(ir::serialize_circuit(circuit).size());
  state.counters["kernel_bytes"] = kernel_bytes;
  state.counters["toeplitz_bytes"] = toeplitz_bytes;
  state.counters["circuit_over_kernel"] = state.counters["circuit_bytes"] / kernel_bytes;
}
BENCHMARK(BM_ConvCircuitMemory)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fhenn

BENCHMARK_MAIN();
