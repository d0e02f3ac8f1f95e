// Writes the loader fuzz targets' seed corpus from real artifacts: a tiny seeded network, compiled, deployed on the
// smallest named parameter set that runs it, its keys and encrypted batches. Usage: make_corpus <corpus folder>.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compile.hpp"
#include "fhenn/compiler/graph_io.hpp"
#include "fhenn/compiler/mlp_graph.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/deploy/client.hpp"
#include "fhenn/deploy/server.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/tfhe/parameters.hpp"
#include "targets.hpp"

namespace fhenn::fuzz {
namespace {

namespace fs = std::filesystem;

// A 2 -> 3 -> 2 ReLU network with seeded random weights (corpus data only, nothing secret).
compiler::FloatMlp tiny_float_mlp() {
  std::mt19937 gen(1);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  compiler::FloatMlp model;
  model.input_size = 2;
  const int sizes[] = {2, 3, 2};
  for (int l = 0; l < 2; ++l) {
    compiler::DenseLayer layer;
    layer.name = "fc" + std::to_string(l + 1);
    layer.in_features = sizes[l];
    layer.out_features = sizes[l + 1];
    for (int i = 0; i < sizes[l] * sizes[l + 1]; ++i) layer.weight.push_back(u(gen));
    for (int i = 0; i < sizes[l + 1]; ++i) layer.bias.push_back(u(gen) * 0.1);
    layer.activation = l == 0 ? compiler::Activation::relu : compiler::Activation::identity;
    model.layers.push_back(layer);
  }
  return model;
}

// The same network with 3-bit trained quantizers and rounding-aware training (as tests/compiler/io_test.cpp).
compiler::QatMlp tiny_qat_mlp() {
  compiler::QatMlp qat;
  qat.input_size = 2;
  qat.input_quantizer = quant::UniformQuantizer{3, true, true, 1.0 / 3.0, 0};
  for (const auto& layer : tiny_float_mlp().layers) {
    qat.layers.push_back({layer, quant::UniformQuantizer{3, true, true, 0.2, 0}, {}, 0});
  }
  qat.layers[0].output_quantizer = quant::UniformQuantizer{3, false, false, 0.3, 0};
  qat.layers[0].rounding_shift = 1;
  qat.rounding_threshold_bits = 4;
  return qat;
}

Matrix features(size_t rows) {
  Matrix m(rows, 2);
  for (size_t i = 0; i < rows; ++i) {
    m.at(i, 0) = static_cast<double>(i % 5) / 4.0;
    m.at(i, 1) = static_cast<double>(i % 3) / 2.0;
  }
  return m;
}

// Seeds of one artifact for a target, in each input mode (fuzz_support.hpp): the file, resealed, its payload.
// Fails when the artifact's kind or version is not what the target seals (fuzz/targets.hpp is out of date).
void write_seeds(const fs::path& folder, const std::string& name, std::span<const uint8_t> bytes,
                 std::span<const SealedKind> kinds, unsigned variant) {
  const SealedKind& sealed = kinds[variant % kinds.size()];
  FHENN_CHECK(peek_artifact_kind(bytes) == sealed.kind, "make_corpus: ", name, " is a '", peek_artifact_kind(bytes),
              "' where its target seals a '", sealed.kind, "': update fuzz/targets.hpp");
  const auto payload = open_artifact(bytes, sealed.kind, sealed.version, "make_corpus: " + name);
  write_file_bytes(folder / (name + ".file"), encode_input(Mode::whole_file, variant, bytes));
  write_file_bytes(folder / (name + ".resealed"), encode_input(Mode::resealed, variant, bytes));
  write_file_bytes(folder / (name + ".payload"), encode_input(Mode::payload, variant, payload));
  std::printf("make_corpus: %s/%s (%zu bytes)\n", folder.filename().c_str(), name.c_str(), bytes.size());
}

// The deployment on the first named secure set (in order of cost) that can run the circuit, and that set's index
// in tfhe::named_parameter_sets() (the batch target's variant).
std::pair<deploy::Deployment, size_t> smallest_deployment(const compiler::CompiledModel& compiled) {
  const auto& sets = tfhe::named_parameter_sets();
  std::vector<size_t> order;
  for (size_t i = 0; i < sets.size(); ++i) {
    if (sets[i].secure) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tfhe::keyswitch_bootstrap_cost(sets[a]) < tfhe::keyswitch_bootstrap_cost(sets[b]);
  });
  for (size_t i : order) {
    runtime::PlanOptions options;
    options.parameter_set = sets[i].name;
    try {
      return {deploy::make_deployment(compiled, options), i};
    } catch (const Error&) {
    }
  }
  fail("make_corpus: no named parameter set runs the corpus model");
}

// Keys and an encrypted batch under the tiny insecure set (targets.hpp): small valid seeds of the key and batch
// loaders, whose real seeds are megabytes.
void write_tiny_key_seeds(const fs::path& root, const std::string& model_id) {
  auto rng = tfhe::Csprng::for_tests_only(11);
  const tfhe::ParameterSet& params = tiny_parameters();
  tfhe::ClientKey client_key = tfhe::ClientKey::generate(params, rng, tfhe::KeySecurity::allow_insecure);
  deploy::EncryptedBatch batch;
  batch.model_id = model_id;
  batch.key_id = "tiny-key";
  batch.samples = 1;
  batch.width = 2;
  const int64_t messages[] = {0, 1};
  const int encodings[] = {1, 1};
  batch.seeded = tfhe::encrypt_integers_seeded(client_key, messages, encodings, rng);
  const unsigned index = tiny_parameters_index();
  write_seeds(root / "batch", "tiny_inputs", deploy::serialize_batch(batch, params), kBatchKinds, index << 1);
  batch.kind = deploy::EncryptedBatch::Kind::results;
  batch.ciphertexts = tfhe::expand_ciphertexts(*batch.seeded);
  write_seeds(root / "batch", "tiny_results", deploy::serialize_batch(batch, params), kBatchKinds, index << 1 | 1);
  const deploy::EvaluationKeys evaluation{std::string(kFuzzModelId), "tiny-key",
                                          tfhe::ServerKey::generate(client_key, rng, 1)};
  write_seeds(root / "evaluation_keys", "tiny", deploy::serialize_evaluation_keys(evaluation), kEvaluationKeysKinds,
              index);
  const deploy::SecretKeys secret{model_id, "tiny-key", std::move(client_key)};
  write_seeds(root / "secret_keys", "tiny", deploy::serialize_secret_keys(secret), kSecretKeysKinds, 0);
}

void write_csv_seeds(const fs::path& folder) {
  const char* texts[] = {"x,label,y\n0.5,1,2\n-1e-3,0,+4\n",
                         "1,2\n3,4\n\n5,6\n",
                         "\"a\",\"b\"\r\n1e308,-0\r\n",
                         "a,b\n1,nan\n",
                         "1,2\n3\n",
                         "x\n"};
  for (size_t i = 0; i < std::size(texts); ++i) {
    const std::string_view text(texts[i]);
    write_file_bytes(folder / ("seed" + std::to_string(i) + ".csv"),
                     {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }
}

// First byte 0: raw IDX; 1: gzip (Debian's Fashion-MNIST test labels when installed).
void write_idx_seeds(const fs::path& folder) {
  const std::vector<uint8_t> images = {0, 0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
  write_file_bytes(folder / "seed0.idx", images);
  const fs::path labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (!fs::exists(labels)) return;
  std::vector<uint8_t> gz = {1};
  const auto file = read_file_bytes(labels, "the Fashion-MNIST test labels");
  gz.insert(gz.end(), file.begin(), file.end());
  write_file_bytes(folder / "seed1.idx.gz", gz);
}

void write_corpus(const fs::path& root) {
  write_seeds(root / "model", "float", compiler::serialize_model(tiny_float_mlp()), kModelKinds, 0);
  write_seeds(root / "model", "qat", compiler::serialize_model(tiny_qat_mlp()), kModelKinds, 1);
  write_seeds(root / "model", "graph", compiler::serialize_model_graph(compiler::mlp_graph(tiny_float_mlp())),
              kModelKinds, 2);

  compiler::PtqOptions options;
  options.n_bits = {.model_inputs = 2, .op_inputs = 2, .op_weights = 2, .model_outputs = 2};
  options.rounding_threshold_bits = 2;  // lookups of 2 bits: the smallest parameter sets run it
  const compiler::CompiledModel compiled = compiler::compile_ptq(tiny_float_mlp(), features(64), options);
  const compiler::CompiledModel qat = compiler::compile_qat(tiny_qat_mlp(), features(64));
  write_seeds(root / "compiled", "ptq", compiler::serialize_compiled(compiled), kCompiledKinds, 0);
  write_seeds(root / "compiled", "qat", compiler::serialize_compiled(qat), kCompiledKinds, 0);
  write_seeds(root / "circuit", "ptq", ir::serialize_circuit(compiled.circuit), kCircuitKinds, 0);
  write_seeds(root / "circuit", "qat", ir::serialize_circuit(qat.circuit), kCircuitKinds, 0);

  const auto [deployment, set_index] = smallest_deployment(compiled);
  std::printf("make_corpus: parameter set %s\n", deployment.client.params.name.c_str());
  write_seeds(root / "client_part", "ptq", deploy::serialize_client_part(deployment.client), kClientPartKinds, 0);
  write_seeds(root / "server_part", "ptq", deploy::serialize_server_part(deployment.server), kServerPartKinds, 0);

  const deploy::Client client(deployment.client);
  auto rng = tfhe::Csprng::for_tests_only(7);  // corpus keys protect nothing
  const auto [secret, evaluation] = client.generate_keys(rng, 1, false);
  write_seeds(root / "secret_keys", "keys", deploy::serialize_secret_keys(secret), kSecretKeysKinds, 0);
  const deploy::EvaluationKeys tagged{std::string(kFuzzModelId), evaluation.key_id, evaluation.key};
  write_seeds(root / "evaluation_keys", "keys", deploy::serialize_evaluation_keys(tagged), kEvaluationKeysKinds,
              static_cast<unsigned>(set_index));

  const auto& params = deployment.client.params;
  const auto inputs = client.encrypt(features(2), secret, rng);
  const auto results = deploy::Server(deployment.server).run(inputs, evaluation, 1, false);
  const auto variant = static_cast<unsigned>(set_index << 1);
  write_seeds(root / "batch", "inputs", deploy::serialize_batch(inputs, params), kBatchKinds, variant);
  write_seeds(root / "batch", "results", deploy::serialize_batch(results, params), kBatchKinds, variant | 1);

  write_tiny_key_seeds(root, deployment.client.model_id);
  write_csv_seeds(root / "csv");
  write_idx_seeds(root / "idx");
}

}  // namespace
}  // namespace fhenn::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
    return 2;
  }
  try {
    fhenn::fuzz::write_corpus(argv[1]);
  } catch (const fhenn::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
