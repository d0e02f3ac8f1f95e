// The fully connected networks of model.hpp as model graphs: one Gemm per layer, a Relu after it where it has one.
#pragma once

#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/model.hpp"

namespace fhenn::compiler {

// Input "input" of shape (input_size); per layer a Gemm named after it and, for a ReLU layer, a Relu named
// "<layer>.lookup" (its lookup's name); the last layer's tensor is the output. Throws fhenn::Error for a model
// without layers.
ModelGraph mlp_graph(const FloatMlp& model);

// The same for a quantization-aware network, its trained quantizers as Quant nodes: "input.quant" after the
// input, then per layer a Gemm with its weight quantizer and rounding shift, a Relu "<layer>.lookup" for a ReLU
// layer followed by a Quant "<layer>.quant" (fused into the lookup), or a Quant "<layer>.lookup" alone. Throws
// fhenn::Error naming a tensor without its quantizer, e.g. "fc2.weight has no weight quantizer: use QuantLinear".
ModelGraph qat_mlp_graph(const QatMlp& model);

}  // namespace fhenn::compiler
