// The torch-free model graph: named tensors with shapes, ops from the registry (graph_ops.hpp), a float reference.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fhenn/ir/circuit.hpp"
#include "fhenn/quant/uniform_quantizer.hpp"

namespace fhenn::compiler {

using ir::Shape;

// A float tensor of one sample (no batch axis), row-major.
struct FloatTensor {
  Shape shape;
  std::vector<double> values;
};

// One op application, ONNX-like: it reads tensors by name and produces the tensor named `name`.
//   op          the registry key ("Gemm", "Conv", "Relu", "Add", "MaxPool", ...: graph_ops.hpp lists them)
//   inputs      the tensors it reads (graph inputs or other nodes' names)
//   weight      Gemm: out x in (row-major), Conv: out x in/groups x kh x kw; BatchNormalization: unused
//   bias        one per output feature or channel, or empty
//   ints        integer attributes by ONNX name: kernel_shape, strides, pads (top, left, bottom, right),
//               dilations, group, axis, count_include_pad; and rounding_shift (Gemm, Conv: a trained rounding of
//               the accumulator before the lookup that reads it, quant::round_msbs, instead of one computed from
//               rounding_threshold_bits)
//   floats      float attributes: alpha (LeakyRelu), epsilon (BatchNormalization)
//   tensors     extra float tensors: BatchNormalization's scale, B, mean, var
//   quantizer   Quant: its quantizer; Gemm, Conv: the trained (symmetric) weight quantizer, used instead of one
//               calibrated on the weights (quantization-aware training)
struct GraphNode {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;
  std::vector<double> weight;
  std::vector<double> bias;
  std::map<std::string, std::vector<int64_t>> ints;
  std::map<std::string, double> floats;
  std::map<std::string, std::vector<double>> tensors;
  std::optional<quant::UniformQuantizer> quantizer;

  // The integer attribute `key`, or `fallback` when absent.
  std::vector<int64_t> ints_or(const std::string& key, std::vector<int64_t> fallback) const;
  int64_t int_or(const std::string& key, int64_t fallback) const;
  double float_or(const std::string& key, double fallback) const;
};

// A node with its name, op and inputs (weights and attributes to be filled in).
GraphNode graph_node(std::string name, std::string op, std::vector<std::string> inputs);

struct GraphInput {
  std::string name;
  Shape shape;  // without the batch: (F) or (C, H, W)
};

// What a builder (nn, the ONNX importer, a test) describes.
struct ModelGraph {
  std::vector<GraphInput> inputs;
  std::vector<GraphNode> nodes;  // any order: Graph sorts them
  std::vector<std::string> outputs;
};

// A checked graph: nodes in topological order, every tensor's shape known, batch normalizations folded into the
// convolution or Gemm before them. Built only by Graph::build.
class Graph {
 public:
  // Throws fhenn::Error naming the node, the op and what would fix it for: an op the registry does not know, a
  // tensor read but never produced, two tensors of one name, a cycle, a shape mismatch between operands, a zero
  // or negative dimension, a kernel larger than its padded input, weights that do not fit the shapes, a
  // non-finite weight, a tensor that nothing consumes (and is not an output), or no input or output.
  static Graph build(ModelGraph description);

  const std::vector<GraphInput>& inputs() const { return inputs_; }
  const std::vector<GraphNode>& nodes() const { return nodes_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  // Tensors are numbered: the graph inputs first, then the nodes in order.
  size_t tensor_count() const { return shapes_.size(); }
  size_t tensor_index(const std::string& name) const;  // throws fhenn::Error for an unknown name
  const Shape& shape(size_t tensor) const { return shapes_[tensor]; }
  const std::string& tensor_name(size_t tensor) const { return names_[tensor]; }
  // Node k's operands as tensor indices; its own tensor is inputs().size() + k.
  const std::vector<size_t>& operands(size_t node) const { return operands_[node]; }
  size_t input_features() const;  // all inputs' elements, in order

  // The float reference: every tensor's values for one sample (`features`: the inputs' elements, in order).
  std::vector<FloatTensor> evaluate(std::span<const double> features) const;

 private:
  std::vector<GraphInput> inputs_;
  std::vector<GraphNode> nodes_;
  std::vector<std::string> outputs_;
  std::vector<std::string> names_;
  std::vector<Shape> shapes_;
  std::vector<std::vector<size_t>> operands_;
};

// The number of elements of each channel (axis 0) of a shape: 1 for (F), H * W for (C, H, W).
size_t channel_size(const Shape& shape);

}  // namespace fhenn::compiler
