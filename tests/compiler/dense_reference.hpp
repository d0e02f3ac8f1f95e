// The dense post-training quantization of a fully connected network written out directly, layer by layer: the
// reference twin of compile_ptq (which goes through the model graph), for tests. Formulas (L1)-(L5) of
// docs/circuit.md; calibration as the reference library does it (one input range, each hidden layer's outputs).
#pragma once

#include <algorithm>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "fhenn/common/matrix.hpp"
#include "fhenn/compiler/dequantization.hpp"
#include "fhenn/compiler/model.hpp"
#include "fhenn/ir/circuit.hpp"
#include "fhenn/quant/ptq.hpp"
#include "fhenn/quant/rounding.hpp"

namespace fhenn::testing {

struct DenseReferenceLayer {
  const compiler::DenseLayer* layer = nullptr;
  quant::UniformQuantizer input;
  quant::UniformQuantizer weight_quantizer;
  std::vector<int64_t> weights;
  int rounding_shift = 0;
  std::optional<quant::UniformQuantizer> output;  // hidden layers

  double dequantized(size_t i, int64_t rounded) const {
    return compiler::dequantize_accumulator(rounded, rounding_shift, input.scale, weight_quantizer.scale,
                                            layer->bias.empty() ? 0.0 : layer->bias[i], layer->activation);
  }
};

struct DenseReference {
  std::vector<DenseReferenceLayer> layers;

  // The last layer's integers, (L1)-(L5) layer by layer, from the inputs' integers.
  std::vector<int64_t> output_integers(std::span<const double> features) const {
    std::vector<int64_t> q;
    for (double x : features) q.push_back(layers.front().input.quantize(x));
    for (const DenseReferenceLayer& l : layers) {
      std::vector<int64_t> next(static_cast<size_t>(l.layer->out_features));
      for (size_t i = 0; i < next.size(); ++i) {
        int64_t acc = 0;
        for (size_t j = 0; j < q.size(); ++j) acc += l.weights[i * q.size() + j] * (q[j] - l.input.zero_point);
        const int64_t rounded = quant::round_msbs(acc, l.rounding_shift);
        next[i] = l.output ? l.output->quantize(l.dequantized(i, rounded)) : rounded;
      }
      q = std::move(next);
    }
    return q;
  }

  std::vector<double> scores(std::span<const double> features) const {
    const std::vector<int64_t> q = output_integers(features);
    std::vector<double> out(q.size());
    for (size_t i = 0; i < q.size(); ++i) out[i] = layers.back().dequantized(i, q[i]);
    return out;
  }

  // The worst-case accumulator range of layer `l` over all neurons, inputs anywhere in the input quantizer's range:
  // the widest bound a rounding may be computed from.
  ir::Range accumulator_bound(size_t l) const {
    const DenseReferenceLayer& d = layers[l];
    const int64_t low = d.input.qmin() - d.input.zero_point, high = d.input.qmax() - d.input.zero_point;
    const size_t in = static_cast<size_t>(d.layer->in_features);
    ir::Range hull{0, 0};
    for (size_t i = 0; i < static_cast<size_t>(d.layer->out_features); ++i) {
      ir::Range acc{0, 0};
      for (size_t j = 0; j < in; ++j) {
        const int64_t w = d.weights[i * in + j];
        acc.min += std::min(w * low, w * high);
        acc.max += std::max(w * low, w * high);
      }
      hull = hull.hull(acc);
    }
    return hull;
  }
};

// PTQ of `model` calibrated on `calibration` with `n_bits`; layer l's accumulator rounded by shifts[name] (what the
// compiled circuit chose: its round nodes "<layer>.round"), 0 when absent.
inline DenseReference dense_ptq_reference(const compiler::FloatMlp& model, const Matrix& calibration,
                                          const quant::NBits& n_bits, const std::map<std::string, int>& shifts = {}) {
  quant::TensorStatistics input;
  input.observe(calibration.values);
  std::vector<quant::TensorStatistics> hidden(model.layers.size());
  for (size_t row = 0; row < calibration.rows; ++row) {
    std::vector<double> x(calibration.row(row).begin(), calibration.row(row).end());
    for (size_t l = 0; l + 1 < model.layers.size(); ++l) {
      const compiler::DenseLayer& layer = model.layers[l];
      std::vector<double> y(static_cast<size_t>(layer.out_features));
      for (size_t i = 0; i < y.size(); ++i) {
        double v = layer.bias.empty() ? 0.0 : layer.bias[i];
        for (size_t j = 0; j < x.size(); ++j) v += layer.weight[i * x.size() + j] * x[j];
        y[i] = layer.activation == compiler::Activation::relu ? std::max(v, 0.0) : v;
      }
      hidden[l].observe(y);
      x = std::move(y);
    }
  }
  DenseReference reference;
  quant::UniformQuantizer in = quant::asymmetric_quantizer(input, n_bits.model_inputs);
  for (size_t l = 0; l < model.layers.size(); ++l) {
    DenseReferenceLayer d;
    d.layer = &model.layers[l];
    d.input = in;
    d.weight_quantizer = quant::symmetric_quantizer(quant::TensorStatistics::of(d.layer->weight), n_bits.op_weights);
    for (double w : d.layer->weight) d.weights.push_back(d.weight_quantizer.quantize(w));
    const auto shift = shifts.find(d.layer->name);
    d.rounding_shift = shift == shifts.end() ? 0 : shift->second;
    if (l + 1 < model.layers.size()) {
      in = quant::asymmetric_quantizer(hidden[l], n_bits.op_inputs);
      d.output = in;
    }
    reference.layers.push_back(std::move(d));
  }
  return reference;
}

// The shift of every round node "<layer>.round" of `circuit`, by layer.
inline std::map<std::string, int> round_shifts_by_layer(const ir::Circuit& circuit) {
  std::map<std::string, int> shifts;
  for (const ir::Node& node : circuit.nodes()) {
    if (const auto* round = std::get_if<ir::RoundOp>(&node.op)) {
      shifts[node.name.substr(0, node.name.size() - std::string(".round").size())] = round->shift;
    }
  }
  return shifts;
}

}  // namespace fhenn::testing
