// The artifact kinds each loader fuzz target's payload mode seals its data as (make_corpus checks them).
#pragma once

#include "fhenn/compiler/graph_io.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/deploy/artifacts.hpp"
#include "fhenn/ir/serialize.hpp"
#include "fhenn/tfhe/parameters.hpp"
#include "fuzz_support.hpp"

namespace fhenn::fuzz {

inline constexpr SealedKind kModelKinds[] = {{compiler::kFloatMlpArtifactKind, compiler::kModelFormatVersion},
                                             {compiler::kQatMlpArtifactKind, compiler::kModelFormatVersion},
                                             {compiler::kModelGraphArtifactKind, compiler::kModelGraphFormatVersion}};
inline constexpr SealedKind kCompiledKinds[] = {{"fhenn-compiled-model", 4}};
inline constexpr SealedKind kCircuitKinds[] = {{ir::kCircuitArtifactKind, ir::kCircuitFormatVersion}};
inline constexpr SealedKind kClientPartKinds[] = {{"fhenn-client-part", deploy::kClientPartFormatVersion}};
inline constexpr SealedKind kServerPartKinds[] = {{"fhenn-server-part", deploy::kServerPartFormatVersion}};
inline constexpr SealedKind kSecretKeysKinds[] = {{"fhenn-secret-keys", deploy::kDeployFormatVersion}};
// An INSECURE set far smaller than any real one (n = 32, N = 64): its evaluation keys take 40 kB where the smallest
// secure set's take 17 MB, so that a valid key is a seed the fuzzer can mutate quickly. Fuzzing only.
inline const tfhe::ParameterSet& tiny_parameters() {
  static const tfhe::ParameterSet tiny = [] {
    tfhe::ParameterSet s;
    s.name = "fuzz_tiny";
    s.message_bits = tfhe::MessageBits(1);
    s.lwe_dimension = tfhe::LweDimension(32);
    s.glwe_dimension = tfhe::GlweDimension(1);
    s.polynomial_size = tfhe::PolynomialSize(64);
    s.pbs_base_log = tfhe::DecompositionBaseLog(20);
    s.pbs_level = tfhe::DecompositionLevelCount(1);
    s.ks_base_log = tfhe::DecompositionBaseLog(4);
    s.ks_level = tfhe::DecompositionLevelCount(3);
    s.lwe_noise = tfhe::NoiseDistribution::gaussian(1.93e-5);
    s.glwe_noise = tfhe::NoiseDistribution::tuniform(17);
    s.secure = false;
    s.source = "none: fuzzing seed only";
    s.validate();
    return s;
  }();
  return tiny;
}

// The parameter set a loader expects, picked by the input's variant: the named sets, then the tiny one.
inline const tfhe::ParameterSet& parameters_for(unsigned index) {
  const auto& sets = tfhe::named_parameter_sets();
  const size_t i = index % (sets.size() + 1);
  return i < sets.size() ? sets[i] : tiny_parameters();
}
inline unsigned tiny_parameters_index() {
  return static_cast<unsigned>(tfhe::named_parameter_sets().size());
}

// The model id of the server part the evaluation keys target loads keys for (make_corpus tags its keys with it).
inline constexpr std::string_view kFuzzModelId = "fuzz-model";

// Evaluation keys variant: the parameter set of the server part the keys must serve (parameters_for).
inline constexpr SealedKind kEvaluationKeysKinds[] = {{"fhenn-evaluation-keys", deploy::kDeployFormatVersion}};
// Batch variant: bit 0 is the kind the loader expects (0 inputs, 1 results), the rest the parameter set
// (parameters_for).
inline constexpr SealedKind kBatchKinds[] = {{"fhenn-encrypted-inputs", deploy::kInputsFormatVersion},
                                             {"fhenn-encrypted-results", deploy::kDeployFormatVersion}};

}  // namespace fhenn::fuzz
