// `fhenn decrypt` (client): encrypted results -> dequantized scores and predicted classes (CSV or JSON).
#include "command.hpp"
#include "fhenn/deploy/client.hpp"
#include "predictions_output.hpp"

namespace fhenn::cli {
namespace {

struct DecryptArgs {
  std::string client;
  std::string secret_key = "secret.key";
  std::string input = "results.enc";
  std::string out = "-";
  std::string format = "csv";
};

void run_decrypt(const DecryptArgs& a) {
  const deploy::Client client(deploy::load_client_part(a.client));
  const auto secret = deploy::load_secret_keys(a.secret_key);
  const auto results =
      deploy::load_batch(a.input, deploy::EncryptedBatch::Kind::results, client.spec().params);
  write_predictions(client.decrypt(results, secret), a.format, a.out);
}

void setup_decrypt(CLI::App& root) {
  auto* cmd = root.add_subcommand("decrypt", "Client: decrypt results into scores and predicted classes");
  auto a = std::make_shared<DecryptArgs>();
  cmd->add_option("--client", a->client, "The model's client part")->required();
  cmd->add_option("--secret-key", a->secret_key, "The secret key that encrypted the inputs");
  cmd->add_option("--input", a->input, "Encrypted results (fhenn run)");
  cmd->add_option("--out", a->out, "Where to write the predictions ('-': stdout)");
  cmd->add_option("--format", a->format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  cmd->callback([a] { run_decrypt(*a); });
}

FHENN_REGISTER_COMMAND("43-decrypt", setup_decrypt);

}  // namespace
}  // namespace fhenn::cli
