// The model graph's sealed artifact (see graph_io.hpp).
#include "fhenn/compiler/graph_io.hpp"

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/bytes.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"

namespace fhenn::compiler {
namespace {

constexpr uint64_t kMaxGraphInputs = 64;
constexpr uint64_t kMaxGraphNodes = 1 << 16;
constexpr uint64_t kMaxNodeInputs = 64;
constexpr uint64_t kMaxAttributes = 64;
constexpr uint64_t kMaxDims = 8;
constexpr size_t kMaxName = 4096;

template <typename T>
void write_map(ByteWriter& out, const std::map<std::string, T>& map) {
  out.u64(map.size());
  for (const auto& [key, value] : map) {
    out.str(key);
    if constexpr (std::is_same_v<T, double>) {
      out.f64(value);
    } else {
      out.vec(value);
    }
  }
}

template <typename T>
std::map<std::string, T> read_map(ByteReader& in, SizeBudget& budget) {
  std::map<std::string, T> map;
  const uint64_t n = in.count(kMaxAttributes, 8 + 8);
  for (uint64_t k = 0; k < n; ++k) {
    std::string key = in.str(kMaxName);
    if constexpr (std::is_same_v<T, double>) {
      map[key] = in.f64();
    } else {
      map[key] = in.vec<typename T::value_type>(ir::kMaxCircuitElements, budget);
    }
  }
  return map;
}

}  // namespace

std::vector<uint8_t> serialize_model_graph(const ModelGraph& graph) {
  (void)Graph::build(graph);
  ByteWriter out;
  out.u64(graph.inputs.size());
  for (const GraphInput& in : graph.inputs) {
    out.str(in.name);
    out.vec(std::vector<uint64_t>(in.shape.begin(), in.shape.end()));
  }
  out.u64(graph.nodes.size());
  for (const GraphNode& node : graph.nodes) {
    out.str(node.name);
    out.str(node.op);
    out.u64(node.inputs.size());
    for (const std::string& name : node.inputs) out.str(name);
    out.vec(node.weight);
    out.vec(node.bias);
    write_map(out, node.ints);
    write_map(out, node.floats);
    write_map(out, node.tensors);
    write_optional_quantizer(out, node.quantizer);
  }
  out.u64(graph.outputs.size());
  for (const std::string& name : graph.outputs) out.str(name);
  return seal_artifact(kModelGraphArtifactKind, kModelGraphFormatVersion, out.bytes());
}

ModelGraph deserialize_model_graph(std::span<const uint8_t> bytes, const std::string& what) {
  const auto payload = open_artifact(bytes, kModelGraphArtifactKind, kModelGraphFormatVersion, what);
  ByteReader in(payload, what);
  SizeBudget budget(ir::kMaxCircuitElements, "the model graph in " + what);
  ModelGraph graph;
  graph.inputs.resize(in.count(kMaxGraphInputs, 8 + 8));
  for (GraphInput& input : graph.inputs) {
    input.name = in.str(kMaxName);
    const std::vector<uint64_t> dims = in.vec<uint64_t>(kMaxDims);
    input.shape.assign(dims.begin(), dims.end());
  }
  graph.nodes.resize(in.count(kMaxGraphNodes, 8 * 10 + 1));
  for (GraphNode& node : graph.nodes) {
    node.name = in.str(kMaxName);
    node.op = in.str(kMaxName);
    node.inputs.resize(in.count(kMaxNodeInputs, 8));
    for (std::string& name : node.inputs) name = in.str(kMaxName);
    node.weight = in.vec<double>(ir::kMaxCircuitElements, budget);
    node.bias = in.vec<double>(ir::kMaxCircuitElements, budget);
    node.ints = read_map<std::vector<int64_t>>(in, budget);
    node.floats = read_map<double>(in, budget);
    node.tensors = read_map<std::vector<double>>(in, budget);
    node.quantizer = read_optional_quantizer(in);
  }
  graph.outputs.resize(in.count(kMaxGraphNodes, 8));
  for (std::string& name : graph.outputs) name = in.str(kMaxName);
  in.expect_end();
  try {
    (void)Graph::build(graph);
  } catch (const Error& e) {
    fail(what, " holds an invalid model graph: ", e.what());
  }
  return graph;
}

}  // namespace fhenn::compiler
