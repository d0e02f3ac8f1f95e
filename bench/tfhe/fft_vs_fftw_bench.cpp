// Our negacyclic forward FFT against FFTW 3 doing the same work (fold, twist, N/2-point complex DFT): the
// measurement behind keeping our own kernels (issue 3, item 6). Run: build/release/bench/fhenn_bench_tfhe
// --benchmark_filter=ForwardFft.
#include <benchmark/benchmark.h>
#include <fftw3.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "fhenn/tfhe/fft.hpp"

namespace {

std::vector<int64_t> small_signed_polynomial(size_t n) {
  std::mt19937_64 gen(1);  // benchmark data only
  std::vector<int64_t> p(n);
  for (auto& c : p) c = static_cast<int64_t>(gen() % 1024) - 512;
  return p;
}

void BM_OwnForwardFft(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto& transform = fhenn::tfhe::FourierTransform::get(fhenn::tfhe::PolynomialSize(n));
  const auto poly = small_signed_polynomial(n);
  fhenn::tfhe::FourierBuffer out(transform.fourier_doubles());
  for (auto _ : state) {
    transform.forward_integer(poly.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
}

// The same transform with an FFTW_MEASURE plan: z_j = (a_j + i a_(j + N/2)) * zeta^j, then the N/2-point DFT.
void BM_FftwForwardFft(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const size_t half = n / 2;
  const auto poly = small_signed_polynomial(n);
  std::vector<std::complex<double>> twist(half);
  for (size_t j = 0; j < half; ++j) twist[j] = std::polar(1.0, std::numbers::pi * static_cast<double>(j) / n);
  auto* buffer = fftw_alloc_complex(half);
  fftw_plan plan = fftw_plan_dft_1d(static_cast<int>(half), buffer, buffer, FFTW_FORWARD, FFTW_MEASURE);
  for (auto _ : state) {
    for (size_t j = 0; j < half; ++j) {
      const std::complex<double> z(static_cast<double>(poly[j]), static_cast<double>(poly[j + half]));
      const std::complex<double> t = z * twist[j];
      buffer[j][0] = t.real();
      buffer[j][1] = t.imag();
    }
    fftw_execute(plan);
    benchmark::DoNotOptimize(buffer);
  }
  fftw_destroy_plan(plan);
  fftw_free(buffer);
}

BENCHMARK(BM_OwnForwardFft)->Arg(1024)->Arg(2048)->Arg(4096);
BENCHMARK(BM_FftwForwardFft)->Arg(1024)->Arg(2048)->Arg(4096);

}  // namespace
