// `fhenn keygen` (client): a secret key, kept client-side, and the evaluation keys to send to the server.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "fhenn/common/artifact.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/progress.hpp"
#include "fhenn/deploy/client.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

struct KeygenArgs {
  std::string client;
  std::string secret_key = "secret.key";
  std::string evaluation_keys = "evaluation.keys";
  int threads = 0;
  bool insecure = false;
  std::string json;
};

void run_keygen(const KeygenArgs& a) {
  const deploy::Client client(deploy::load_client_part(a.client));
  const int threads = a.threads > 0 ? a.threads : default_thread_count();
  auto rng = tfhe::Csprng::from_os();
  const auto start = std::chrono::steady_clock::now();
  const auto security = a.insecure ? tfhe::KeySecurity::allow_insecure : tfhe::KeySecurity::require_128_bit;
  auto [secret, evaluation] = client.generate_keys(rng, threads, true, security);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto secret_bytes = deploy::serialize_secret_keys(secret);
  const auto evaluation_bytes = deploy::serialize_evaluation_keys(evaluation);
  write_file_bytes(a.secret_key, secret_bytes, FileAccess::owner_only);
  write_file_bytes(a.evaluation_keys, evaluation_bytes);
  const nlohmann::json report = {{"model_id", secret.model_id},
                                 {"key_id", secret.key_id},
                                 {"parameter_set", secret.key.params.name},
                                 {"parameter_set_secure", secret.key.params.secure},
                                 {"keygen_seconds", seconds},
                                 {"secret_key", a.secret_key},
                                 {"secret_key_bytes", secret_bytes.size()},
                                 {"evaluation_keys", a.evaluation_keys},
                                 {"evaluation_key_bytes", evaluation_bytes.size()}};
  if (!a.json.empty()) write_json(report, a.json);
  if (a.json != "-") {
    std::cout << "keys " << secret.key_id << " for model " << secret.model_id.substr(0, 12) << " ("
              << secret.key.params.name << (secret.key.params.secure ? "" : ", INSECURE: below 128-bit security")
              << ") in " << ProgressBar::format_duration(seconds) << "\n"
              << "  secret key (keep it):        " << a.secret_key << "  " << secret_bytes.size() << " bytes\n"
              << "  evaluation keys (to server): " << a.evaluation_keys << "  " << evaluation_bytes.size()
              << " bytes\n";
  }
}

void setup_keygen(CLI::App& root) {
  auto* cmd = root.add_subcommand("keygen", "Client: generate a secret key and the evaluation keys for a model");
  auto a = std::make_shared<KeygenArgs>();
  cmd->add_option("--client", a->client, "The model's client part (fhenn compile --client)")->required();
  cmd->add_option("--secret-key", a->secret_key, "Where to write the secret key (stays with the client)");
  cmd->add_option("--evaluation-keys", a->evaluation_keys, "Where to write the evaluation keys (for the server)");
  cmd->add_option("--threads", a->threads, "Threads (default: all cores)");
  cmd->add_flag("--insecure", a->insecure,
                "Generate keys even for a parameter set below 128-bit security (tests and experiments only)");
  cmd->add_option("--json", a->json, "Also write a JSON report to this file ('-': stdout only)");
  cmd->callback([a] { run_keygen(*a); });
}

FHENN_REGISTER_COMMAND("40-keygen", setup_keygen);

}  // namespace
}  // namespace fhenn::cli
