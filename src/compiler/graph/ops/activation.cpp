// The univariate activations: one table of functions, each fused into the lookup that reads the accumulator.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "fhenn/common/error.hpp"
#include "ops.hpp"

namespace fhenn::compiler::ops {
namespace {

struct Function {
  std::string_view name;
  double (*f)(double x, double alpha);
  bool monotone;  // non-decreasing: its tables may be trimmed to where they change
  double default_alpha;
};

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// ONNX definitions (LeakyRelu's alpha defaults to 0.01; Gelu is the exact erf form; Silu is x * sigmoid(x)).
constexpr std::array<Function, 9> kFunctions = {{
    {"Identity", [](double x, double) { return x; }, true, 0.0},
    {"Relu", [](double x, double) { return std::max(x, 0.0); }, true, 0.0},
    {"LeakyRelu", [](double x, double alpha) { return x >= 0.0 ? x : alpha * x; }, true, 0.01},
    {"Sigmoid", [](double x, double) { return sigmoid(x); }, true, 0.0},
    {"Tanh", [](double x, double) { return std::tanh(x); }, true, 0.0},
    {"Gelu", [](double x, double) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }, false, 0.0},
    {"Silu", [](double x, double) { return x * sigmoid(x); }, false, 0.0},
    {"HardSwish", [](double x, double) { return x * std::clamp(x + 3.0, 0.0, 6.0) / 6.0; }, false, 0.0},
    {"Softplus", [](double x, double) { return std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0); }, true, 0.0},
}};

class Activation final : public GraphOp {
 public:
  explicit Activation(const Function& function) : function_(function) {}

  Shape infer_shape(const GraphNode& node, std::span<const Shape> operands) const override {
    expect_operands(node, operands.size(), 1);
    return operands[0];
  }

  FloatTensor evaluate(const GraphNode& node, std::span<const FloatTensor* const> operands,
                       const Shape& shape) const override {
    const double alpha = node.float_or("alpha", function_.default_alpha);
    FloatTensor y{shape, operands[0]->values};
    for (double& v : y.values) v = function_.f(v, alpha);
    return y;
  }

  // (L4) with any f: the lookup after the accumulator computes out.quantize(f(x)), one table per channel.
  EncodedTensor lower(const GraphNode& node, std::span<const EncodedTensor> operands, size_t tensor,
                      LoweringContext& context) const override {
    const double alpha = node.float_or("alpha", function_.default_alpha);
    const auto f = [this, alpha](double x) { return function_.f(x, alpha); };
    const bool monotone = function_.monotone && alpha >= 0.0;
    return context.add_lookup(node.name, operands[0], f, monotone, context.activation_quantizer(tensor));
  }

 private:
  const Function& function_;
};

const std::vector<Activation>& activations() {
  static const std::vector<Activation> ops(kFunctions.begin(), kFunctions.end());
  return ops;
}

}  // namespace

const GraphOp* activation(std::string_view name) {
  for (size_t k = 0; k < kFunctions.size(); ++k) {
    if (kFunctions[k].name == name) return &activations()[k];
  }
  return nullptr;
}

std::string activation_names() {
  std::string names;
  for (const Function& f : kFunctions) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

}  // namespace fhenn::compiler::ops
