// The op registry: every op of the model graph by its ONNX name (adding an op: one file in ops/, one row here).
#include <array>
#include <utility>

#include "fhenn/compiler/graph_ops.hpp"
#include "ops/ops.hpp"

namespace fhenn::compiler {
namespace {

using OpFactory = const GraphOp& (*)();

constexpr std::array<std::pair<std::string_view, OpFactory>, 11> kOps = {{
    {"Gemm", ops::gemm},
    {"Conv", ops::conv},
    {"Add", ops::add},
    {"Sub", ops::subtract},
    {"AveragePool", ops::average_pool},
    {"GlobalAveragePool", ops::global_average_pool},
    {"MaxPool", ops::max_pool},
    {"Flatten", ops::flatten},
    {"Reshape", ops::reshape},
    {"Concat", ops::concat},
    {"Quant", ops::quant},
}};

}  // namespace

const GraphOp* find_graph_op(std::string_view name) {
  for (const auto& [key, factory] : kOps) {
    if (key == name) return &factory();
  }
  return ops::activation(name);  // the univariate activations' own table
}

std::string graph_op_names() {
  std::string names;
  for (const auto& [key, factory] : kOps) names += std::string(key) + ", ";
  return names + "BatchNormalization (folded into the Conv or Gemm before it), " + ops::activation_names();
}

}  // namespace fhenn::compiler
