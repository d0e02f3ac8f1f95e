// Saving and loading trained models (FloatMlp, QatMlp, model graphs) as sealed artifacts, and checking them.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "fhenn/common/bytes.hpp"
#include "fhenn/compiler/dequantization.hpp"
#include "fhenn/compiler/graph.hpp"
#include "fhenn/compiler/model.hpp"

namespace fhenn::compiler {

inline constexpr const char* kFloatMlpArtifactKind = "fhenn-float-mlp";
inline constexpr const char* kQatMlpArtifactKind = "fhenn-qat-mlp";
inline constexpr uint32_t kModelFormatVersion = 1;

// Throw fhenn::Error naming the layer for: no layers, a non-positive size, a layer whose input size is not the
// previous output size, a weight count other than out x in, a bias count other than out (or 0), NaN or
// infinite weights or biases, an empty or duplicate layer name; for QAT also invalid quantizers (bits outside
// 1..30, a scale that is not finite and positive) and a negative or too large rounding shift.
void validate_model(const FloatMlp& model);
void validate_model(const QatMlp& model);
void validate_quantizer(const quant::UniformQuantizer& q, const std::string& tensor);

// What `fhenn train` writes: a fully connected float or QAT network, or a model graph (graph_io.hpp).
using TrainedModel = std::variant<FloatMlp, QatMlp, ModelGraph>;

void save_model(const FloatMlp& model, const std::filesystem::path& path);
void save_model(const QatMlp& model, const std::filesystem::path& path);
void save_model(const ModelGraph& model, const std::filesystem::path& path);
// Any kind, told apart by the artifact's kind; validated. Throws fhenn::Error for a missing, truncated,
// corrupted or invalid file, or a file of another kind.
TrainedModel load_model(const std::filesystem::path& path);

std::vector<uint8_t> serialize_model(const FloatMlp& model);
std::vector<uint8_t> serialize_model(const QatMlp& model);
TrainedModel deserialize_model(std::span<const uint8_t> bytes, const std::string& what);

// Pieces shared with the compiled-model artifact.
void write_quantizer(ByteWriter& out, const quant::UniformQuantizer& q);
quant::UniformQuantizer read_quantizer(ByteReader& in);
void write_optional_quantizer(ByteWriter& out, const std::optional<quant::UniformQuantizer>& q);
std::optional<quant::UniformQuantizer> read_optional_quantizer(ByteReader& in);
// An output integer's dequantizer (the client's half of a compiled model).
void write_output_dequantization(ByteWriter& out, const OutputDequantization& d);
OutputDequantization read_output_dequantization(ByteReader& in);

}  // namespace fhenn::compiler
