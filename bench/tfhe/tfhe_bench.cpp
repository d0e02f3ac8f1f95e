// Google Benchmark targets of the TFHE engine: FFT, external product, key switch, PBS, batched KS-PBS.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "fhenn/tfhe/fft.hpp"
#include "fhenn/tfhe/keys.hpp"

namespace fhenn::tfhe {
namespace {

struct BenchKeys {
  ClientKey client;
  ServerKey server;
};

const BenchKeys& keys_for(const std::string& name) {
  static std::map<std::string, std::unique_ptr<BenchKeys>> cache;
  auto& slot = cache[name];
  if (!slot) {
    Csprng rng = Csprng::from_os();
    ClientKey client = ClientKey::generate(parameter_set(name), rng, KeySecurity::allow_insecure);  // tfhe_lib_gate
    ServerKey server = ServerKey::generate(client, rng);
    slot = std::make_unique<BenchKeys>(BenchKeys{std::move(client), std::move(server)});
  }
  return *slot;
}

const char* const kSets[] = {"tfhe_lib_gate", "fhenn_p3", "fhenn_p4", "fhenn_p5", "tfhers_2_2"};

void BM_ForwardFft(benchmark::State& state) {
  const size_t N = static_cast<size_t>(state.range(0));
  const auto& fft = FourierTransform::get(PolynomialSize(N));
  std::vector<int64_t> poly(N, 3);
  FourierBuffer out(N);
  for (auto _ : state) {
    fft.forward_integer(poly.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_ForwardFft)->RangeMultiplier(2)->Range(512, 16384);

void BM_ExternalProduct(benchmark::State& state) {
  const auto& keys = keys_for(kSets[state.range(0)]);
  const auto& p = keys.server.params;
  state.SetLabel(p.name);
  Csprng rng = Csprng::for_tests_only(1);
  std::vector<Torus> in(glwe_size(p.glwe_dimension) * p.polynomial_size.value), out(in.size(), 0);
  rng.fill_uniform(in);
  FourierBuffer scratch(external_product_scratch_size(p.glwe_dimension, p.polynomial_size, p.pbs_level));
  for (auto _ : state) external_product_add(keys.server.bootstrap_key.ggsw(0), in, out, scratch);
}
BENCHMARK(BM_ExternalProduct)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

void BM_Keyswitch(benchmark::State& state) {
  const auto& keys = keys_for(kSets[state.range(0)]);
  state.SetLabel(keys.server.params.name);
  Csprng rng = Csprng::for_tests_only(2);
  const auto ct = encrypt_integer(keys.client, 1, rng);
  LweCiphertext out(keys.server.params.lwe_dimension);
  for (auto _ : state) keyswitch_lwe(keys.server.keyswitch_key, ct.data, out.data);
}
BENCHMARK(BM_Keyswitch)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

void BM_KeyswitchBootstrap(benchmark::State& state) {
  const auto& keys = keys_for(kSets[state.range(0)]);
  state.SetLabel(keys.server.params.name);
  Csprng rng = Csprng::for_tests_only(3);
  const auto ct = encrypt_integer(keys.client, 1, rng);
  const auto table = LookupTable::identity(keys.server.params.message_bits.value);
  LweCiphertext out(keys.server.params.big_lwe_dimension());
  FourierBuffer scratch(keyswitch_bootstrap_scratch_size(keys.server));
  for (auto _ : state) keyswitch_bootstrap(ct.data, table, keys.server, out.data, scratch);
}
BENCHMARK(BM_KeyswitchBootstrap)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

void BM_BlindRotation(benchmark::State& state) {
  const auto& keys = keys_for(kSets[state.range(0)]);
  const auto& p = keys.server.params;
  state.SetLabel(p.name);
  std::vector<uint32_t> mask(p.lwe_dimension.value, 5);
  std::vector<Torus> acc(glwe_size(p.glwe_dimension) * p.polynomial_size.value, 1);
  FourierBuffer scratch(blind_rotate_scratch_size(keys.server.bootstrap_key));
  for (auto _ : state) blind_rotate(keys.server.bootstrap_key, mask, acc, scratch);
}
BENCHMARK(BM_BlindRotation)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

void BM_BatchedKeyswitchBootstrap(benchmark::State& state) {
  const auto& keys = keys_for("fhenn_p4");
  Csprng rng = Csprng::for_tests_only(4);
  const int threads = static_cast<int>(state.range(0));
  std::vector<LweCiphertext> batch(8, encrypt_integer(keys.client, 2, rng));
  const auto table = LookupTable::identity(4);
  const LookupTable* tables[] = {&table};
  for (auto _ : state) benchmark::DoNotOptimize(keyswitch_bootstrap_batch(batch, tables, keys.server, threads));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 8);
}
BENCHMARK(BM_BatchedKeyswitchBootstrap)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace fhenn::tfhe

// BENCHMARK_MAIN plus the kernel build in use in the run's context ("tfhe_kernels": avx512, avx2+fma or portable;
// FHENN_TFHE_AVX2=1 or FHENN_TFHE_PORTABLE=1 select the others on this machine).
int main(int argc, char** argv) {
  benchmark::AddCustomContext("tfhe_kernels", fhenn::tfhe::kernel_build());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
