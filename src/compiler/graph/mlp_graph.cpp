// The fully connected networks of model.hpp as model graphs (Gemm and Relu nodes).
#include "fhenn/compiler/mlp_graph.hpp"

#include "fhenn/common/error.hpp"

namespace fhenn::compiler {

ModelGraph mlp_graph(const FloatMlp& model) {
  FHENN_CHECK(!model.layers.empty(), "the model has no layers");
  FHENN_CHECK(model.input_size >= 1, "the model takes ", model.input_size, " inputs: give at least one");
  ModelGraph graph;
  graph.inputs.push_back({"input", {static_cast<size_t>(model.input_size)}});
  std::string current = "input";
  for (const DenseLayer& layer : model.layers) {
    GraphNode gemm = graph_node(layer.name, "Gemm", {current});
    gemm.weight = layer.weight;
    gemm.bias = layer.bias;
    graph.nodes.push_back(std::move(gemm));
    current = layer.name;
    if (layer.activation == Activation::relu) {
      graph.nodes.push_back(graph_node(layer.name + ".lookup", "Relu", {current}));
      current = graph.nodes.back().name;
    }
  }
  graph.outputs = {current};
  return graph;
}

}  // namespace fhenn::compiler
