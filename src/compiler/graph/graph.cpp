// Building and checking the model graph, folding batch normalizations, and its float reference (see graph.hpp).
#include "fhenn/compiler/graph.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/graph_ops.hpp"

namespace fhenn::compiler {
namespace {

constexpr size_t kMaxDimension = size_t{1} << 24;
constexpr uint64_t kMaxGraphElements = uint64_t{1} << 28;  // weights and tensor elements summed

GraphNode* producer(std::vector<GraphNode>& nodes, const std::string& name) {
  for (GraphNode& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

size_t consumers(const std::vector<GraphNode>& nodes, const std::string& name) {
  size_t count = 0;
  for (const GraphNode& n : nodes) {
    for (const std::string& in : n.inputs) count += in == name ? 1 : 0;
  }
  return count;
}

// y = (x - mean) * scale / sqrt(var + epsilon) + B folded into the Conv or Gemm x comes from: its output channel
// o's weights times a_o = scale_o / sqrt(var_o + epsilon), its bias (b_o - mean_o) * a_o + B_o.
void fold_batch_norm(GraphNode& linear, const GraphNode& norm) {
  const auto& scale = norm.tensors.at("scale");
  const auto& shift = norm.tensors.at("B");
  const auto& mean = norm.tensors.at("mean");
  const auto& variance = norm.tensors.at("var");
  const size_t channels = scale.size();
  FHENN_CHECK(channels > 0 && shift.size() == channels && mean.size() == channels && variance.size() == channels &&
                  linear.weight.size() % channels == 0 && (linear.bias.empty() || linear.bias.size() == channels),
              "batch normalization '", norm.name, "' has ", channels, " channels but '", linear.name, "' has ",
              linear.bias.size(), " outputs: their shapes disagree");
  const double epsilon = norm.float_or("epsilon", 1e-5);
  const size_t per_channel = linear.weight.size() / channels;
  if (linear.bias.empty()) linear.bias.assign(channels, 0.0);
  for (size_t o = 0; o < channels; ++o) {
    FHENN_CHECK(variance[o] + epsilon > 0.0, "batch normalization '", norm.name, "': channel ", o,
                " has a negative variance");
    const double a = scale[o] / std::sqrt(variance[o] + epsilon);
    for (size_t k = 0; k < per_channel; ++k) linear.weight[o * per_channel + k] *= a;
    linear.bias[o] = (linear.bias[o] - mean[o]) * a + shift[o];
  }
}

// Folds every BatchNormalization into the Conv or Gemm that alone feeds it; its readers then read that node.
void fold_batch_norms(ModelGraph& g) {
  for (size_t k = 0; k < g.nodes.size();) {
    const GraphNode norm = g.nodes[k];
    if (norm.op != "BatchNormalization") {
      ++k;
      continue;
    }
    FHENN_CHECK(norm.inputs.size() == 1, "batch normalization '", norm.name, "' reads ", norm.inputs.size(),
                " tensors; give it one (its statistics go in its tensors)");
    for (const char* key : {"scale", "B", "mean", "var"}) {
      FHENN_CHECK(norm.tensors.count(key) == 1, "batch normalization '", norm.name, "' has no '", key, "' tensor");
    }
    GraphNode* source = producer(g.nodes, norm.inputs[0]);
    FHENN_CHECK(
        source != nullptr && (source->op == "Conv" || source->op == "Gemm") && consumers(g.nodes, source->name) == 1,
        "batch normalization '", norm.name, "' follows '", norm.inputs[0],
        "', which is not a Conv or Gemm read by it alone; fhenn folds batch normalization into the ",
        "convolution or linear layer before it: place it right after one");
    fold_batch_norm(*source, norm);
    for (GraphNode& n : g.nodes) {
      for (std::string& in : n.inputs) {
        if (in == norm.name) in = source->name;
      }
    }
    for (std::string& out : g.outputs) {
      if (out == norm.name) out = source->name;
    }
    g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(k));
  }
}

void check_inputs(const std::vector<GraphInput>& inputs, std::set<std::string>& names) {
  FHENN_CHECK(!inputs.empty(), "the graph has no input");
  for (const GraphInput& in : inputs) {
    FHENN_CHECK(!in.name.empty() && names.insert(in.name).second, "graph input '", in.name,
                "' is unnamed or named twice");
    FHENN_CHECK(in.shape.size() == 1 || in.shape.size() == 3, "graph input '", in.name, "' has shape ",
                ir::shape_text(in.shape), ": give (features) or (channels, height, width), without the batch");
    for (size_t d : in.shape) {
      FHENN_CHECK(d >= 1 && d <= kMaxDimension, "graph input '", in.name, "' has shape ", ir::shape_text(in.shape),
                  ": every dimension must be 1..", kMaxDimension);
    }
  }
}

void check_finite(const GraphNode& node) {
  const auto finite = [&](const std::vector<double>& values, const std::string& what) {
    for (double v : values) {
      FHENN_CHECK(std::isfinite(v), "node '", node.name, "' (", node.op, "): its ", what, " holds ", v,
                  "; weights must be finite");
    }
  };
  finite(node.weight, "weight");
  finite(node.bias, "bias");
  for (const auto& [key, values] : node.tensors) finite(values, key);
}

// Kahn's algorithm: nodes whose inputs are all known, in the given order, until none is left.
std::vector<GraphNode> topological_order(std::vector<GraphNode> nodes, std::set<std::string> known) {
  std::vector<GraphNode> ordered;
  while (!nodes.empty()) {
    bool progressed = false;
    for (size_t k = 0; k < nodes.size();) {
      bool ready = true;
      for (const std::string& in : nodes[k].inputs) ready = ready && known.count(in) == 1;
      if (!ready) {
        ++k;
        continue;
      }
      known.insert(nodes[k].name);
      ordered.push_back(std::move(nodes[k]));
      nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(k));
      progressed = true;
    }
    if (progressed) continue;
    const GraphNode& stuck = nodes.front();
    for (const std::string& in : stuck.inputs) {
      FHENN_CHECK(known.count(in) == 1 || producer(nodes, in) != nullptr, "node '", stuck.name, "' (", stuck.op,
                  ") reads '", in, "', which no node or graph input produces");
    }
    fail("node '", stuck.name, "' (", stuck.op, ") is on a cycle: a model graph must be acyclic");
  }
  return ordered;
}

}  // namespace

std::vector<int64_t> GraphNode::ints_or(const std::string& key, std::vector<int64_t> fallback) const {
  const auto it = ints.find(key);
  return it == ints.end() ? fallback : it->second;
}

int64_t GraphNode::int_or(const std::string& key, int64_t fallback) const {
  const auto it = ints.find(key);
  if (it == ints.end()) return fallback;
  FHENN_CHECK(it->second.size() == 1, "node '", name, "' (", op, "): attribute ", key, " must hold one integer");
  return it->second[0];
}

double GraphNode::float_or(const std::string& key, double fallback) const {
  const auto it = floats.find(key);
  return it == floats.end() ? fallback : it->second;
}

GraphNode graph_node(std::string name, std::string op, std::vector<std::string> inputs) {
  GraphNode n;
  n.name = std::move(name);
  n.op = std::move(op);
  n.inputs = std::move(inputs);
  return n;
}

size_t channel_size(const Shape& shape) {
  return shape.size() <= 1 ? 1 : ir::shape_elements(shape) / shape[0];
}

Graph Graph::build(ModelGraph description) {
  std::set<std::string> names;
  check_inputs(description.inputs, names);
  std::set<std::string> input_names = names;
  for (const GraphNode& node : description.nodes) {
    FHENN_CHECK(!node.name.empty() && names.insert(node.name).second, "node '", node.name,
                "' is unnamed or its name is taken: every tensor needs its own name");
    FHENN_CHECK(node.op == "BatchNormalization" || find_graph_op(node.op) != nullptr, "node '", node.name,
                "' uses the op '", node.op, "', which fhenn does not support; supported: ", graph_op_names());
    check_finite(node);
  }
  fold_batch_norms(description);
  Graph g;
  g.inputs_ = description.inputs;
  g.outputs_ = description.outputs;
  g.nodes_ = topological_order(std::move(description.nodes), input_names);
  for (const GraphInput& in : g.inputs_) {
    g.names_.push_back(in.name);
    g.shapes_.push_back(in.shape);
  }
  SizeBudget elements(kMaxGraphElements, "the model graph (weights and tensor elements)");
  for (const GraphNode& node : g.nodes_) {
    std::vector<size_t> operands;
    std::vector<Shape> shapes;
    for (const std::string& in : node.inputs) {
      operands.push_back(g.tensor_index(in));
      shapes.push_back(g.shapes_[operands.back()]);
    }
    elements.charge(node.weight.size() + node.bias.size());
    Shape shape = find_graph_op(node.op)->infer_shape(node, shapes);
    for (size_t d : shape) {
      FHENN_CHECK(d >= 1 && d <= kMaxDimension, "node '", node.name, "' (", node.op, ") would have shape ",
                  ir::shape_text(shape), ": every dimension must be 1..", kMaxDimension);
    }
    elements.charge(ir::shape_elements(shape));
    g.names_.push_back(node.name);
    g.shapes_.push_back(std::move(shape));
    g.operands_.push_back(std::move(operands));
  }
  FHENN_CHECK(!g.outputs_.empty(), "the graph has no output: name the tensors it returns");
  for (const std::string& out : g.outputs_) g.tensor_index(out);
  for (size_t t = 0; t < g.names_.size(); ++t) {
    bool used = std::find(g.outputs_.begin(), g.outputs_.end(), g.names_[t]) != g.outputs_.end();
    for (const auto& ops : g.operands_) used = used || std::find(ops.begin(), ops.end(), t) != ops.end();
    FHENN_CHECK(used, "tensor '", g.names_[t], "' is computed but nothing reads it and it is not an output: ",
                "remove it or list it among the outputs");
  }
  return g;
}

size_t Graph::tensor_index(const std::string& name) const {
  for (size_t t = 0; t < names_.size(); ++t) {
    if (names_[t] == name) return t;
  }
  fail("the graph has no tensor named '", name, "'");
}

size_t Graph::input_features() const {
  size_t features = 0;
  for (const GraphInput& in : inputs_) features += ir::shape_elements(in.shape);
  return features;
}

std::vector<FloatTensor> Graph::evaluate(std::span<const double> features) const {
  FHENN_CHECK(features.size() == input_features(), "the graph takes ", input_features(), " features, got ",
              features.size());
  std::vector<FloatTensor> tensors;
  tensors.reserve(tensor_count());
  size_t offset = 0;
  for (const GraphInput& in : inputs_) {
    const size_t count = ir::shape_elements(in.shape);
    tensors.push_back({in.shape,
                       {features.begin() + static_cast<std::ptrdiff_t>(offset),
                        features.begin() + static_cast<std::ptrdiff_t>(offset + count)}});
    offset += count;
  }
  for (size_t k = 0; k < nodes_.size(); ++k) {
    std::vector<const FloatTensor*> operands;
    for (size_t t : operands_[k]) operands.push_back(&tensors[t]);
    tensors.push_back(find_graph_op(nodes_[k].op)->evaluate(nodes_[k], operands, shapes_[inputs_.size() + k]));
  }
  return tensors;
}

}  // namespace fhenn::compiler
