// Saving, loading and checking trained models (see model_io.hpp).
#include "fhenn/compiler/model_io.hpp"

#include <cmath>
#include <cstring>
#include <set>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/graph_io.hpp"

namespace fhenn::compiler {
namespace {

constexpr uint64_t kMaxLayers = 1024;
// Weights and biases over all layers: 2 GiB of doubles, far above any network fhenn can run encrypted (the
// demo's has 10^4). Charged while reading, before allocating.
constexpr uint64_t kMaxParameters = uint64_t{1} << 28;
constexpr int kMaxFeatures = 1 << 24;
// The fewest bytes a layer takes: name length, in and out sizes, weight and bias counts, activation.
constexpr size_t kMinLayerBytes = 8 + 8 + 8 + 8 + 8 + 1;

void check_finite(const std::vector<double>& values, const std::string& tensor) {
  for (size_t k = 0; k < values.size(); ++k) {
    FHENN_CHECK(std::isfinite(values[k]), tensor, "[", k, "] is ", values[k],
                ": the model has NaN or infinite parameters (diverged training?); retrain it");
  }
}

void validate_layers(int input_size, const std::vector<const DenseLayer*>& layers) {
  FHENN_CHECK(input_size >= 1 && input_size <= kMaxFeatures, "the model's input size is ", input_size, ": must be 1..",
              kMaxFeatures);
  FHENN_CHECK(!layers.empty(), "the model has no layers");
  std::set<std::string> names;
  int previous_out = input_size;
  for (const DenseLayer* layer : layers) {
    FHENN_CHECK(!layer->name.empty(), "a layer has no name");
    FHENN_CHECK(names.insert(layer->name).second, "two layers are named '", layer->name, "'");
    FHENN_CHECK(layer->in_features == previous_out, "layer ", layer->name, " takes ", layer->in_features,
                " inputs but receives ", previous_out, " (the previous layer's outputs or the model's input size)");
    FHENN_CHECK(layer->out_features >= 1 && layer->out_features <= kMaxFeatures, "layer ", layer->name, " has ",
                layer->out_features, " outputs: must be 1..", kMaxFeatures);
    const size_t expected = static_cast<size_t>(layer->in_features) * static_cast<size_t>(layer->out_features);
    FHENN_CHECK(layer->weight.size() == expected, "layer ", layer->name, " has ", layer->weight.size(), " weights; ",
                layer->out_features, " x ", layer->in_features, " = ", expected, " expected");
    FHENN_CHECK(layer->bias.empty() || layer->bias.size() == static_cast<size_t>(layer->out_features), "layer ",
                layer->name, " has ", layer->bias.size(), " biases for ", layer->out_features, " outputs");
    check_finite(layer->weight, layer->name + ".weight");
    check_finite(layer->bias, layer->name + ".bias");
    previous_out = layer->out_features;
  }
}

void write_layer(ByteWriter& out, const DenseLayer& layer) {
  out.str(layer.name);
  out.i64(layer.in_features);
  out.i64(layer.out_features);
  out.vec(layer.weight);
  out.vec(layer.bias);
  out.u8(static_cast<uint8_t>(layer.activation));
}

int read_int(ByteReader& in) {
  const int64_t v = in.i64();
  FHENN_CHECK(v >= 0 && v <= kMaxFeatures, in.what(), " is corrupted: a size of ", v);
  return static_cast<int>(v);
}

DenseLayer read_layer(ByteReader& in, SizeBudget& budget) {
  DenseLayer layer;
  layer.name = in.str(4096);
  layer.in_features = read_int(in);
  layer.out_features = read_int(in);
  layer.weight = in.vec<double>(kMaxParameters, budget);
  layer.bias = in.vec<double>(kMaxParameters, budget);
  const uint8_t activation = in.u8();
  FHENN_CHECK(activation <= static_cast<uint8_t>(Activation::relu), in.what(), " is corrupted: activation code ",
              int{activation});
  layer.activation = static_cast<Activation>(activation);
  return layer;
}

FloatMlp read_float_mlp(ByteReader& in) {
  FloatMlp model;
  SizeBudget budget(kMaxParameters, in.what());
  model.input_size = read_int(in);
  model.layers.resize(in.count(kMaxLayers, kMinLayerBytes));
  for (DenseLayer& layer : model.layers) layer = read_layer(in, budget);
  return model;
}

QatMlp read_qat_mlp(ByteReader& in) {
  QatMlp model;
  SizeBudget budget(kMaxParameters, in.what());
  model.input_size = read_int(in);
  model.input_quantizer = read_optional_quantizer(in);
  model.layers.resize(in.count(kMaxLayers, kMinLayerBytes));
  for (QatLayer& layer : model.layers) {
    layer.layer = read_layer(in, budget);
    layer.weight_quantizer = read_optional_quantizer(in);
    layer.output_quantizer = read_optional_quantizer(in);
    const int64_t shift = in.i64();
    FHENN_CHECK(shift >= 0 && shift <= 40, in.what(), " is corrupted: a rounding shift of ", shift);
    layer.rounding_shift = static_cast<int>(shift);
  }
  if (in.u8() != 0) {
    const int64_t bits = in.i64();
    FHENN_CHECK(bits >= 1 && bits <= 40, in.what(), " is corrupted: rounding_threshold_bits of ", bits);
    model.rounding_threshold_bits = static_cast<int>(bits);
  }
  return model;
}

template <typename Model>
Model validated(Model model, const std::string& what) {
  try {
    validate_model(model);
  } catch (const Error& e) {
    fail(what, " holds an invalid model: ", e.what());
  }
  return model;
}

}  // namespace

void validate_quantizer(const quant::UniformQuantizer& q, const std::string& tensor) {
  FHENN_CHECK(q.bits >= 1 && q.bits <= 30, tensor, ": the quantizer has ", q.bits, " bits; must be 1..30");
  FHENN_CHECK(q.is_signed || !q.narrow_range || q.bits >= 2, tensor, ": an unsigned narrow quantizer needs 2 bits");
  FHENN_CHECK(std::isfinite(q.scale) && q.scale > 0.0, tensor, ": the quantizer's scale is ", q.scale,
              "; it must be finite and positive");
  FHENN_CHECK(q.zero_point >= -(int64_t{1} << 31) && q.zero_point <= (int64_t{1} << 31), tensor,
              ": the quantizer's zero point ", q.zero_point, " is implausible");
}

void validate_model(const FloatMlp& model) {
  std::vector<const DenseLayer*> layers;
  for (const DenseLayer& layer : model.layers) layers.push_back(&layer);
  validate_layers(model.input_size, layers);
}

void validate_model(const QatMlp& model) {
  std::vector<const DenseLayer*> layers;
  for (const QatLayer& layer : model.layers) layers.push_back(&layer.layer);
  validate_layers(model.input_size, layers);
  if (model.input_quantizer) validate_quantizer(*model.input_quantizer, "the input quantizer");
  for (const QatLayer& layer : model.layers) {
    if (layer.weight_quantizer) validate_quantizer(*layer.weight_quantizer, layer.layer.name + ".weight");
    if (layer.output_quantizer) validate_quantizer(*layer.output_quantizer, "the output of " + layer.layer.name);
    FHENN_CHECK(layer.rounding_shift >= 0 && layer.rounding_shift <= 40, "layer ", layer.layer.name,
                ": rounding shift ", layer.rounding_shift, " must be 0..40");
  }
  if (model.rounding_threshold_bits) {
    FHENN_CHECK(*model.rounding_threshold_bits >= 1 && *model.rounding_threshold_bits <= 40,
                "rounding_threshold_bits is ", *model.rounding_threshold_bits, ": must be 1..40");
  }
}

void write_quantizer(ByteWriter& out, const quant::UniformQuantizer& q) {
  out.i64(q.bits);
  out.u8(q.is_signed ? 1 : 0);
  out.u8(q.narrow_range ? 1 : 0);
  out.f64(q.scale);
  out.i64(q.zero_point);
}

quant::UniformQuantizer read_quantizer(ByteReader& in) {
  quant::UniformQuantizer q;
  const int64_t bits = in.i64();
  FHENN_CHECK(bits >= 1 && bits <= 30, in.what(), " is corrupted: a quantizer of ", bits, " bits");
  q.bits = static_cast<int>(bits);
  q.is_signed = in.u8() != 0;
  q.narrow_range = in.u8() != 0;
  q.scale = in.f64();
  q.zero_point = in.i64();
  validate_quantizer(q, in.what());
  return q;
}

void write_optional_quantizer(ByteWriter& out, const std::optional<quant::UniformQuantizer>& q) {
  out.u8(q ? 1 : 0);
  if (q) write_quantizer(out, *q);
}

std::optional<quant::UniformQuantizer> read_optional_quantizer(ByteReader& in) {
  if (in.u8() == 0) return std::nullopt;
  return read_quantizer(in);
}

std::vector<uint8_t> serialize_model(const FloatMlp& model) {
  validate_model(model);
  ByteWriter out;
  out.i64(model.input_size);
  out.u64(model.layers.size());
  for (const DenseLayer& layer : model.layers) write_layer(out, layer);
  return seal_artifact(kFloatMlpArtifactKind, kModelFormatVersion, out.bytes());
}

std::vector<uint8_t> serialize_model(const QatMlp& model) {
  validate_model(model);
  ByteWriter out;
  out.i64(model.input_size);
  write_optional_quantizer(out, model.input_quantizer);
  out.u64(model.layers.size());
  for (const QatLayer& layer : model.layers) {
    write_layer(out, layer.layer);
    write_optional_quantizer(out, layer.weight_quantizer);
    write_optional_quantizer(out, layer.output_quantizer);
    out.i64(layer.rounding_shift);
  }
  out.u8(model.rounding_threshold_bits ? 1 : 0);
  if (model.rounding_threshold_bits) out.i64(*model.rounding_threshold_bits);
  return seal_artifact(kQatMlpArtifactKind, kModelFormatVersion, out.bytes());
}

TrainedModel deserialize_model(std::span<const uint8_t> bytes, const std::string& what) {
  const std::string kind = peek_artifact_kind(bytes);
  if (kind == kModelGraphArtifactKind) return deserialize_model_graph(bytes, what);
  if (kind == kQatMlpArtifactKind) {
    const auto payload = open_artifact(bytes, kQatMlpArtifactKind, kModelFormatVersion, what);
    ByteReader in(payload, what);
    QatMlp model = read_qat_mlp(in);
    in.expect_end();
    return validated(std::move(model), what);
  }
  FHENN_CHECK(kind.empty() || kind == kFloatMlpArtifactKind, what, " holds a '", kind,
              "', not a trained model: pass a file written by `fhenn train`");
  const auto payload = open_artifact(bytes, kFloatMlpArtifactKind, kModelFormatVersion, what);
  ByteReader in(payload, what);
  FloatMlp model = read_float_mlp(in);
  in.expect_end();
  return validated(std::move(model), what);
}

void save_model(const FloatMlp& model, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_model(model));
}

void save_model(const QatMlp& model, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_model(model));
}

void save_model(const ModelGraph& model, const std::filesystem::path& path) {
  write_file_bytes(path, serialize_model_graph(model));
}

TrainedModel load_model(const std::filesystem::path& path) {
  const std::string what = "model file '" + path.string() + "'";
  return deserialize_model(read_file_bytes(path, "model file"), what);
}

}  // namespace fhenn::compiler
