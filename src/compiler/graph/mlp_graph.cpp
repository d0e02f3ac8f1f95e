// The fully connected networks of model.hpp as model graphs (Gemm, Relu and, for QAT, Quant nodes).
#include "fhenn/compiler/mlp_graph.hpp"

#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"

namespace fhenn::compiler {
namespace {

GraphNode gemm_node(const DenseLayer& layer, const std::string& input) {
  GraphNode gemm = graph_node(layer.name, "Gemm", {input});
  gemm.weight = layer.weight;
  gemm.bias = layer.bias;
  return gemm;
}

GraphNode quant_node(std::string name, const std::string& input, const quant::UniformQuantizer& quantizer) {
  GraphNode quant = graph_node(std::move(name), "Quant", {input});
  quant.quantizer = quantizer;
  return quant;
}

// Appends `node` and returns its name (the tensor the next node reads).
std::string append(ModelGraph& graph, GraphNode node) {
  graph.nodes.push_back(std::move(node));
  return graph.nodes.back().name;
}

}  // namespace

ModelGraph mlp_graph(const FloatMlp& model) {
  FHENN_CHECK(!model.layers.empty(), "the model has no layers");
  FHENN_CHECK(model.input_size >= 1, "the model takes ", model.input_size, " inputs: give at least one");
  ModelGraph graph;
  graph.inputs.push_back({"input", {static_cast<size_t>(model.input_size)}});
  std::string current = "input";
  for (const DenseLayer& layer : model.layers) {
    current = append(graph, gemm_node(layer, current));
    if (layer.activation == Activation::relu)
      current = append(graph, graph_node(layer.name + ".lookup", "Relu", {current}));
  }
  graph.outputs = {current};
  return graph;
}

ModelGraph qat_mlp_graph(const QatMlp& model) {
  validate_model(model);
  FHENN_CHECK(model.input_quantizer.has_value(),
              "the model input is not quantized: add a QuantIdentity before the first layer");
  ModelGraph graph;
  graph.inputs.push_back({"input", {static_cast<size_t>(model.input_size)}});
  std::string current = append(graph, quant_node("input.quant", "input", *model.input_quantizer));
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const QatLayer& qat = model.layers[l];
    const std::string& name = qat.layer.name;
    FHENN_CHECK(qat.weight_quantizer.has_value(), name, ".weight has no weight quantizer: use QuantLinear");
    const bool hidden = l + 1 < model.layers.size();
    const bool relu = qat.layer.activation == Activation::relu;
    FHENN_CHECK(qat.output_quantizer || (!hidden && !relu), "the output of ", name,
                " is not quantized: add a QuantReLU/QuantIdentity after it");
    GraphNode gemm = gemm_node(qat.layer, current);
    gemm.quantizer = qat.weight_quantizer;
    if (qat.rounding_shift > 0) gemm.ints["rounding_shift"] = {qat.rounding_shift};
    current = append(graph, std::move(gemm));
    if (relu) current = append(graph, graph_node(name + ".lookup", "Relu", {current}));
    if (qat.output_quantizer) {
      current = append(graph, quant_node(name + (relu ? ".quant" : ".lookup"), current, *qat.output_quantizer));
    }
  }
  graph.outputs = {current};
  return graph;
}

}  // namespace fhenn::compiler
