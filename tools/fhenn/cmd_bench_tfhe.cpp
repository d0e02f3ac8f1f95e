// `fhenn bench tfhe`: times the TFHE engine per parameter set (FFT, external product, KS, PBS, keygen, threads).
#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <sstream>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/tfhe/fft.hpp"
#include "fhenn/tfhe/keys.hpp"
#include "fhenn/tfhe/noise.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

using namespace fhenn::tfhe;
using Clock = std::chrono::steady_clock;

// Median seconds of `body`, repeated until `min_seconds` have passed (at least min_reps, at most max_reps).
double median_seconds(const std::function<void()>& body, double min_seconds, int min_reps, int max_reps) {
  std::vector<double> times;
  const auto start = Clock::now();
  while (static_cast<int>(times.size()) < max_reps &&
         (static_cast<int>(times.size()) < min_reps ||
          std::chrono::duration<double>(Clock::now() - start).count() < min_seconds)) {
    const auto t0 = Clock::now();
    body();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

nlohmann::json bench_set(const ParameterSet& p, int threads) {
  Csprng rng = Csprng::from_os();
  // Benchmarks time the original library's (insecure) set too, for the comparison; the output marks it.
  ClientKey client = ClientKey::generate(p, rng, KeySecurity::allow_insecure);
  const auto keygen_start = Clock::now();
  ServerKey server = ServerKey::generate(client, rng, 1);
  const double keygen_ms = std::chrono::duration<double, std::milli>(Clock::now() - keygen_start).count();

  const size_t N = p.polynomial_size.value;
  const auto& fft = FourierTransform::get(p.polynomial_size);
  std::vector<int64_t> poly(N, 1);
  FourierBuffer fourier(N);
  const double fft_s = median_seconds([&] { fft.forward_integer(poly.data(), fourier.data()); }, 0.2, 20, 100000);

  std::vector<Torus> glwe(glwe_size(p.glwe_dimension) * N), glwe_out(glwe.size(), 0);
  rng.fill_uniform(glwe);
  FourierBuffer ep_scratch(external_product_scratch_size(p.glwe_dimension, p.polynomial_size, p.pbs_level));
  const auto ggsw = server.bootstrap_key.ggsw(0);
  const double ep_s = median_seconds([&] { external_product_add(ggsw, glwe, glwe_out, ep_scratch); }, 0.2, 10, 100000);

  const auto input = encrypt_integer(client, 1, rng);
  LweCiphertext small(p.lwe_dimension), out(p.big_lwe_dimension());
  const double ks_s =
      median_seconds([&] { keyswitch_lwe(server.keyswitch_key, input.data, small.data); }, 0.3, 3, 1000);
  const LookupTable table = LookupTable::identity(p.message_bits.value);
  FourierBuffer scratch(keyswitch_bootstrap_scratch_size(server));
  const double pbs_s = median_seconds(
      [&] { programmable_bootstrap(server.bootstrap_key, small.data, table, out.data, scratch); }, 0.5, 3, 1000);
  const double ks_pbs_s =
      median_seconds([&] { keyswitch_bootstrap(input.data, table, server, out.data, scratch); }, 0.5, 3, 1000);
  FHENN_CHECK(decrypt_integer(client, out) == 1, "benchmark self-check failed: the bootstrap of 1 under '", p.name,
              "' decrypted to ", decrypt_integer(client, out));

  // A batch of two groups per thread (keyswitch_bootstrap_batch runs groups of kBootstrapGroup sharing each pass
  // over the keys): grouped_ks_pbs_ms per bootstrap on one thread, and threads_speedup = bootstraps per second
  // with all threads over one thread, each the median of 3 runs (at least 1 s of runs for the small sets).
  std::vector<LweCiphertext> batch(2 * kBootstrapGroup * static_cast<size_t>(threads), input);
  const LookupTable* tables[] = {&table};
  const auto t1 = median_seconds([&] { keyswitch_bootstrap_batch(batch, tables, server, 1); }, 1.0, 3, 15);
  double speedup = 1.0;
  if (threads > 1) {
    const auto tn = median_seconds([&] { keyswitch_bootstrap_batch(batch, tables, server, threads); }, 1.0, 3, 15);
    speedup = t1 / tn;
  }
  return {{"name", p.name},
          {"secure", p.secure},
          {"message_bits", p.message_bits.value},
          {"lwe_dimension", p.lwe_dimension.value},
          {"glwe_dimension", p.glwe_dimension.value},
          {"polynomial_size", N},
          {"pbs_level", p.pbs_level.value},
          {"pbs_base_log", p.pbs_base_log.value},
          {"ks_level", p.ks_level.value},
          {"ks_base_log", p.ks_base_log.value},
          {"p_error", noise::failure_probability(p, 1.0)},
          {"fft_us", fft_s * 1e6},
          {"external_product_us", ep_s * 1e6},
          {"ks_ms", ks_s * 1e3},
          {"pbs_ms", pbs_s * 1e3},
          {"ks_pbs_ms", ks_pbs_s * 1e3},
          {"grouped_ks_pbs_ms", t1 * 1e3 / static_cast<double>(batch.size())},
          {"keygen_ms", keygen_ms},
          {"bootstrap_key_bytes", server.bootstrap_key.bytes()},
          {"keyswitch_key_bytes", server.keyswitch_key.bytes()},
          {"threads_speedup", speedup}};
}

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << v;
  return out.str();
}

void setup_bench_tfhe(CLI::App& root) {
  auto& bench = subcommand_group(root, "bench", "Benchmarks of fhenn's components");
  auto* cmd = bench.add_subcommand("tfhe", "Time the TFHE engine for each parameter set (medians, one core)");
  auto json_path = std::make_shared<std::string>();
  auto sets = std::make_shared<std::string>(
      "fhenn_p1,fhenn_p2,fhenn_p3,fhenn_p4,fhenn_p5,fhenn_p6,fhenn_p7,fhenn_p8,"
      "tfhers_2_2,tfhe_lib_gate");
  auto threads = std::make_shared<int>(default_thread_count());
  cmd->add_option("--json", *json_path, "Also write the results as JSON to this file ('-' for stdout)");
  cmd->add_option("--sets", *sets, "Comma-separated parameter sets to time")->capture_default_str();
  cmd->add_option("--threads", *threads, "Threads for the batched-bootstrap speedup")->capture_default_str();
  cmd->callback([json_path, sets, threads] {
    FHENN_CHECK(*threads >= 1, "--threads must be at least 1, got ", *threads);
    nlohmann::json results = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : split_names(*sets)) {
      const ParameterSet& p = parameter_set(name);  // throws with the known names
      std::cerr << "timing " << name << " ...\n";
      auto r = bench_set(p, *threads);
      r["kernels"] = kernel_build();
      results.push_back(r);
      rows.push_back(
          {p.secure ? name : name + " (INSECURE)", std::to_string(p.message_bits.value),
           "n=" + std::to_string(p.lwe_dimension.value) + " k=" + std::to_string(p.glwe_dimension.value) +
               " N=" + std::to_string(p.polynomial_size.value),
           fixed(r["fft_us"].get<double>(), 2), fixed(r["external_product_us"].get<double>(), 1),
           fixed(r["ks_ms"].get<double>(), 2), fixed(r["pbs_ms"].get<double>(), 2),
           fixed(r["ks_pbs_ms"].get<double>(), 2), fixed(r["grouped_ks_pbs_ms"].get<double>(), 2),
           fixed(r["keygen_ms"].get<double>(), 0), fixed(r["bootstrap_key_bytes"].get<double>() / 1048576.0, 1),
           fixed(r["keyswitch_key_bytes"].get<double>() / 1048576.0, 1), fixed(r["threads_speedup"].get<double>(), 2)});
    }
    std::cout << markdown_table({"set", "bits", "sizes", "fft us", "ext.prod us", "KS ms", "PBS ms", "KS+PBS ms",
                                 "grouped KS+PBS ms", "keygen ms", "BSK MiB", "KSK MiB", "speedup"},
                                rows)
              << "kernels: " << kernel_build() << " (FHENN_TFHE_AVX2=1 or FHENN_TFHE_PORTABLE=1 to compare)\n";
    if (!json_path->empty()) write_json(results, *json_path);
  });
}

FHENN_REGISTER_COMMAND("50-bench-tfhe", setup_bench_tfhe);

}  // namespace
}  // namespace fhenn::cli
