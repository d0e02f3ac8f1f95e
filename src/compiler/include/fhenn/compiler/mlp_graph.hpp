// The fully connected networks of model.hpp as model graphs: one Gemm per layer, a Relu after it where it has one.
#pragma once

#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/model.hpp"

namespace fhenn::compiler {

// Input "input" of shape (input_size); per layer a Gemm named after it and, for a ReLU layer, a Relu named
// "<layer>.lookup" (the name of its lookup in the MLP lowering); the last layer's tensor is the output.
// Throws fhenn::Error for a model without layers.
ModelGraph mlp_graph(const FloatMlp& model);

}  // namespace fhenn::compiler
