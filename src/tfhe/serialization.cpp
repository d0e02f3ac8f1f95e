// Serialization of TFHE keys and ciphertexts with parameter checks (seed-compressed evaluation keys).
#include "fhenn/tfhe/serialization.hpp"

#include <cstring>
#include <string>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/bytes.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/tfhe/security.hpp"

namespace fhenn::tfhe {
namespace {

constexpr std::string_view kClientKeyKind = "tfhe.client_key";
constexpr std::string_view kServerKeyKind = "tfhe.server_key";
constexpr std::string_view kCiphertextsKind = "tfhe.ciphertexts";
constexpr std::string_view kSeededCiphertextsKind = "tfhe.seeded_ciphertexts";

void write_noise(ByteWriter& w, const NoiseDistribution& noise) {
  w.u8(static_cast<uint8_t>(noise.kind));
  w.f64(noise.gaussian_stddev);
  w.i64(noise.tuniform_bound_log2);
}

NoiseDistribution read_noise(ByteReader& r) {
  NoiseDistribution noise;
  const uint8_t kind = r.u8();
  FHENN_CHECK(kind <= 1, r.what(), " is corrupted: unknown noise distribution ", int{kind});
  noise.kind = static_cast<NoiseDistribution::Kind>(kind);
  noise.gaussian_stddev = r.f64();
  const int64_t bound = r.i64();
  FHENN_CHECK(bound >= 0 && bound <= 61 && noise.gaussian_stddev >= 0.0 && noise.gaussian_stddev < 1.0, r.what(),
              " is corrupted: invalid noise parameters");
  noise.tuniform_bound_log2 = static_cast<int>(bound);
  return noise;
}

void write_parameters(ByteWriter& w, const ParameterSet& p) {
  w.str(p.name);
  w.u64(p.message_bits.value);
  w.u64(p.lwe_dimension.value);
  w.u64(p.glwe_dimension.value);
  w.u64(p.polynomial_size.value);
  w.u64(p.pbs_base_log.value);
  w.u64(p.pbs_level.value);
  w.u64(p.ks_base_log.value);
  w.u64(p.ks_level.value);
  write_noise(w, p.lwe_noise);
  write_noise(w, p.glwe_noise);
  w.u8(p.secure ? 1 : 0);
  w.str(p.source);
}

ParameterSet read_parameters(ByteReader& r) {
  ParameterSet p;
  p.name = r.str(256);
  p.message_bits = MessageBits(r.u64());
  p.lwe_dimension = LweDimension(r.u64());
  p.glwe_dimension = GlweDimension(r.u64());
  p.polynomial_size = PolynomialSize(r.u64());
  p.pbs_base_log = DecompositionBaseLog(r.u64());
  p.pbs_level = DecompositionLevelCount(r.u64());
  p.ks_base_log = DecompositionBaseLog(r.u64());
  p.ks_level = DecompositionLevelCount(r.u64());
  p.lwe_noise = read_noise(r);
  p.glwe_noise = read_noise(r);
  r.u8();  // the writer's security flag: never trusted, recomputed below from the parameters themselves
  p.source = r.str(4096);
  try {
    p.validate();
  } catch (const Error& e) {
    fail(r.what(), " holds invalid parameters: ", e.what());
  }
  p.secure = check_security(p).secure();
  return p;
}

void check_expected(const ParameterSet& found, const ParameterSet* expected, std::string_view what) {
  if (expected == nullptr) return;
  FHENN_CHECK(found.same_keys_as(*expected) && found.message_bits == expected->message_bits, what,
              " was made for TFHE parameter set '", found.name, "' (n=", found.lwe_dimension, ", k=",
              found.glwe_dimension, ", N=", found.polynomial_size, ", ", found.message_bits,
              " bits), but parameter set '", expected->name, "' (n=", expected->lwe_dimension, ", k=",
              expected->glwe_dimension, ", N=", expected->polynomial_size, ", ", expected->message_bits,
              " bits) is expected; regenerate the keys or use matching files");
}

std::vector<uint64_t> read_bits(ByteReader& r, size_t count) {
  const auto bytes = r.vec<uint8_t>(count);
  FHENN_CHECK(bytes.size() == count, r.what(), " is corrupted: ", bytes.size(), " key bits where ", count,
              " are expected");
  std::vector<uint64_t> bits(count);
  for (size_t i = 0; i < count; ++i) {
    FHENN_CHECK(bytes[i] <= 1, r.what(), " is corrupted: a binary key coefficient is ", int{bytes[i]});
    bits[i] = bytes[i];
  }
  return bits;
}

void write_bits(ByteWriter& w, const std::vector<uint64_t>& bits) {
  std::vector<uint8_t> bytes(bits.begin(), bits.end());
  w.vec(bytes);
}

template <typename T>
std::vector<T> read_exact(ByteReader& r, size_t count, const char* field) {
  auto values = r.vec<T>(count);
  FHENN_CHECK(values.size() == count, r.what(), " is corrupted: ", field, " has ", values.size(), " entries where the ",
              "parameters need ", count);
  return values;
}

Seed read_seed(ByteReader& r) {
  Seed seed;
  const auto bytes = r.raw(seed.size());
  std::copy(bytes.begin(), bytes.end(), seed.begin());
  return seed;
}

}  // namespace

std::vector<uint8_t> serialize_parameters(const ParameterSet& params) {
  ByteWriter w;
  write_parameters(w, params);
  return w.take();
}

ParameterSet deserialize_parameters(std::span<const uint8_t> bytes, std::string_view what) {
  ByteReader r(bytes, std::string(what));
  ParameterSet p = read_parameters(r);
  r.expect_end();
  return p;
}

std::vector<uint8_t> serialize_client_key(const ClientKey& key) {
  ByteWriter w;
  write_parameters(w, key.params);
  write_bits(w, key.lwe_key.bits);
  write_bits(w, key.glwe_key.bits);
  return seal_artifact(kClientKeyKind, kTfheFormatVersion, w.bytes());
}

ClientKey deserialize_client_key(std::span<const uint8_t> bytes, const ParameterSet* expected, std::string_view what) {
  const auto payload = open_artifact(bytes, kClientKeyKind, kTfheFormatVersion, what);
  ByteReader r(payload, std::string(what));
  ClientKey key;
  key.params = read_parameters(r);
  check_expected(key.params, expected, what);
  key.lwe_key.bits = read_bits(r, key.params.lwe_dimension.value);
  key.glwe_key = GlweSecretKey{key.params.glwe_dimension, key.params.polynomial_size,
                               read_bits(r, key.params.big_lwe_dimension().value)};
  r.expect_end();
  return key;
}

std::vector<uint8_t> serialize_server_key(const ServerKey& key) {
  ByteWriter w;
  write_parameters(w, key.params);
  w.raw(key.seeded_bootstrap_key.mask_seed);
  w.vec(key.seeded_bootstrap_key.bodies);
  w.raw(key.seeded_keyswitch_key.mask_seed);
  w.vec(key.seeded_keyswitch_key.bodies);
  return seal_artifact(kServerKeyKind, kTfheFormatVersion, w.bytes());
}

ServerKey deserialize_server_key(std::span<const uint8_t> bytes, const ParameterSet* expected, std::string_view what,
                                 int threads) {
  const auto payload = open_artifact(bytes, kServerKeyKind, kTfheFormatVersion, what);
  ByteReader r(payload, std::string(what));
  const ParameterSet p = read_parameters(r);
  check_expected(p, expected, what);
  const size_t n = p.lwe_dimension.value;
  const size_t rows = glwe_size(p.glwe_dimension) * p.pbs_level.value;
  SeededBootstrapKey bsk{p.lwe_dimension, p.glwe_dimension, p.polynomial_size, p.pbs_base_log, p.pbs_level, {}, {}};
  bsk.mask_seed = read_seed(r);
  bsk.bodies = read_exact<Torus>(r, n * rows * p.polynomial_size.value, "the bootstrap key");
  SeededLweKeyswitchKey ksk{p.big_lwe_dimension(), p.lwe_dimension, p.ks_base_log, p.ks_level, {}, {}};
  ksk.mask_seed = read_seed(r);
  ksk.bodies = read_exact<Torus>(r, p.big_lwe_dimension().value * p.ks_level.value, "the key-switching key");
  r.expect_end();
  return ServerKey::from_seeded(p, std::move(bsk), std::move(ksk), threads);
}

std::vector<uint8_t> serialize_seeded_ciphertexts(const ParameterSet& params, const SeededCiphertexts& seeded) {
  FHENN_CHECK(seeded.dimension == params.big_lwe_dimension(), "cannot serialize ciphertexts of dimension ",
              seeded.dimension, " with parameter set '", params.name, "' (large key: ", params.big_lwe_dimension(),
              ")");
  ByteWriter w;
  write_parameters(w, params);
  w.raw(seeded.mask_seed);
  w.vec(seeded.bodies);
  return seal_artifact(kSeededCiphertextsKind, kTfheFormatVersion, w.bytes());
}

SeededCiphertexts deserialize_seeded_ciphertexts(std::span<const uint8_t> bytes, const ParameterSet& expected,
                                                 std::string_view what) {
  const auto payload = open_artifact(bytes, kSeededCiphertextsKind, kTfheFormatVersion, what);
  ByteReader r(payload, std::string(what));
  const ParameterSet p = read_parameters(r);
  check_expected(p, &expected, what);
  SeededCiphertexts seeded{p.big_lwe_dimension(), read_seed(r), {}};
  seeded.bodies = r.vec<Torus>(uint64_t{1} << 32);
  r.expect_end();
  return seeded;
}

std::vector<uint8_t> serialize_ciphertexts(const ParameterSet& params, std::span<const LweCiphertext> ciphertexts) {
  ByteWriter w;
  write_parameters(w, params);
  w.u64(ciphertexts.size());
  for (const auto& ct : ciphertexts) {
    FHENN_CHECK(ct.data.size() == params.big_lwe_dimension().value + 1, "cannot serialize a ciphertext of ",
                ct.data.size(), " words with parameter set '", params.name, "' (large key: ",
                params.big_lwe_dimension().value + 1, " words)");
    w.raw({reinterpret_cast<const uint8_t*>(ct.data.data()), ct.data.size() * sizeof(Torus)});
  }
  return seal_artifact(kCiphertextsKind, kTfheFormatVersion, w.bytes());
}

std::vector<LweCiphertext> deserialize_ciphertexts(std::span<const uint8_t> bytes, const ParameterSet& expected,
                                                   std::string_view what) {
  const auto payload = open_artifact(bytes, kCiphertextsKind, kTfheFormatVersion, what);
  ByteReader r(payload, std::string(what));
  const ParameterSet p = read_parameters(r);
  check_expected(p, &expected, what);
  const size_t words = p.big_lwe_dimension().value + 1;
  const uint64_t count = r.count(uint64_t{1} << 32, words * sizeof(Torus));
  std::vector<LweCiphertext> out(count, LweCiphertext(p.big_lwe_dimension()));
  for (auto& ct : out) {
    const auto raw = r.raw(words * sizeof(Torus));
    std::memcpy(ct.data.data(), raw.data(), raw.size());
  }
  r.expect_end();
  return out;
}

}  // namespace fhenn::tfhe
