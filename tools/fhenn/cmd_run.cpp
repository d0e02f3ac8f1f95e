// `fhenn run` (server): evaluation keys + server part + encrypted inputs -> encrypted results. No secret key.
#include <chrono>
#include <iostream>

#include "command.hpp"
#include "fhenn/common/artifact.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/deploy/server.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

struct RunArgs {
  std::string server;
  std::string evaluation_keys = "evaluation.keys";
  std::string input = "inputs.enc";
  std::string out = "results.enc";
  int threads = 0;
  std::string json;
};

void run_server(const RunArgs& a) {
  const int threads = a.threads > 0 ? a.threads : default_thread_count();
  const deploy::Server server(deploy::load_server_part(a.server));
  const auto keys = deploy::load_evaluation_keys(a.evaluation_keys, server.part(), threads);
  const auto inputs =
      deploy::load_batch(a.input, deploy::EncryptedBatch::Kind::inputs, server.part().plan.params);
  const auto start = std::chrono::steady_clock::now();
  const auto results = server.run(inputs, keys, threads, true);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  deploy::save_batch(results, server.part().plan.params, a.out);
  const double per_sample = seconds / static_cast<double>(std::max<size_t>(results.samples, 1));
  const nlohmann::json report = {{"samples", results.samples},
                                 {"bootstraps_per_sample", server.part().plan.bootstraps_per_sample},
                                 {"seconds", seconds},
                                 {"seconds_per_sample", per_sample},
                                 {"threads", threads},
                                 {"out", a.out}};
  if (!a.json.empty()) write_json(report, a.json);
  if (a.json != "-") {
    std::cout << "ran " << results.samples << " encrypted samples in " << ProgressBar::format_duration(seconds) << " ("
              << ProgressBar::format_duration(per_sample) << " per sample, " << threads << " threads) -> " << a.out
              << "\n";
  }
}

void setup_run(CLI::App& root) {
  auto* cmd = root.add_subcommand("run", "Server: run the model on encrypted inputs with the evaluation keys");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("--server", a->server, "The model's server part (fhenn compile --server)")->required();
  cmd->add_option("--evaluation-keys", a->evaluation_keys, "The client's evaluation keys");
  cmd->add_option("--input", a->input, "Encrypted inputs (fhenn encrypt)");
  cmd->add_option("--out", a->out, "Where to write the encrypted results");
  cmd->add_option("--threads", a->threads, "Threads (default: all cores)");
  cmd->add_option("--json", a->json, "Also write a JSON report to this file ('-': stdout only)");
  cmd->callback([a] { run_server(*a); });
}

FHENN_REGISTER_COMMAND("42-run", setup_run);

}  // namespace
}  // namespace fhenn::cli
