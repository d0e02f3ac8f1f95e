// `fhenn predict`: one model, three modes: the circuit in the clear (disable), simulated with the encryption's
// noise (simulate), or encrypted end to end on this machine (execute: keygen, encrypt, run, decrypt).
#include "command.hpp"
#include "fhenn/common/csv.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/deploy/client.hpp"
#include "fhenn/deploy/server.hpp"
#include "fhenn/runtime/simulated.hpp"
#include "predictions_output.hpp"

namespace fhenn::cli {
namespace {

struct PredictArgs {
  std::string client;
  std::string server;
  std::string input;
  std::string drop_column;
  std::string mode = "disable";
  std::string format = "csv";
  std::string out = "-";
  uint64_t seed = 0;
  int threads = 0;
  bool insecure = false;
};

// The client quantizes and dequantizes; the circuit comes from the server part (the client part holds none).
deploy::Predictions predict(const deploy::Client& client, const deploy::ServerPart& server_part,
                            const Matrix& features, const PredictArgs& a, int threads) {
  FHENN_CHECK(server_part.model_id == client.spec().model_id, "the server part is model ",
              server_part.model_id.substr(0, 12), ", the client part is model ", client.spec().model_id.substr(0, 12),
              ": pass the two parts that fhenn compile wrote together");
  if (a.mode == "execute") {
    auto rng = tfhe::Csprng::from_os();
    const auto security = a.insecure ? tfhe::KeySecurity::allow_insecure : tfhe::KeySecurity::require_128_bit;
    const auto [secret, evaluation] = client.generate_keys(rng, threads, true, security);
    const deploy::Server server(server_part);
    return client.decrypt(server.run(client.encrypt(features, secret, rng), evaluation, threads, true), secret);
  }
  runtime::IntMatrix quantized(features.rows, features.cols);
  quantized.values = client.quantize(features);
  std::unique_ptr<runtime::Executor> executor;
  if (a.mode == "simulate") {
    executor = std::make_unique<runtime::SimulatedExecutor>(server_part.circuit, server_part.plan, a.seed, threads);
  } else {
    executor = std::make_unique<runtime::ClearExecutor>(threads);
  }
  return client.predictions_from_outputs(executor->run_batch(server_part.circuit, quantized).values, features.rows);
}

void run_predict(const PredictArgs& a) {
  const deploy::Client client(deploy::load_client_part(a.client));
  FHENN_CHECK(!a.server.empty(), "fhenn predict needs the circuit, which the client part does not hold (it carries ",
              "no weight): pass the model's server part with --server server.part");
  const deploy::ServerPart server_part = deploy::load_server_part(a.server);
  const CsvTable table = read_csv_table(a.input);
  std::optional<size_t> skip;
  if (!a.drop_column.empty()) skip = table.find_column(a.drop_column);
  const Matrix features = csv_feature_matrix(table, skip);
  write_predictions(predict(client, server_part, features, a, a.threads > 0 ? a.threads : default_thread_count()),
                    a.format, a.out, a.mode);
}

void setup_predict(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "predict", "Predict a CSV with a compiled model: in the clear, simulated, or encrypted on this machine");
  auto a = std::make_shared<PredictArgs>();
  cmd->add_option("--client", a->client, "The model's client part (fhenn compile --client)")->required();
  cmd->add_option("--server", a->server, "The model's server part (fhenn compile --server): the circuit");
  cmd->add_option("--input", a->input, "CSV of inputs: one row per sample, one column per feature")->required();
  cmd->add_option("--drop-column", a->drop_column, "A column to ignore, e.g. the label (needs a header row)");
  cmd->add_option("--mode", a->mode,
                  "disable: the circuit in the clear; simulate: with the encryption's noise; execute: encrypted")
      ->check(CLI::IsMember({"disable", "simulate", "execute"}))
      ->capture_default_str();
  cmd->add_option("--format", a->format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("--out", a->out, "Where to write the predictions ('-': stdout)");
  cmd->add_option("--seed", a->seed, "Seed of the simulated noise");
  cmd->add_option("--threads", a->threads, "Threads (default: all cores)");
  cmd->add_flag("--insecure", a->insecure, "With --mode execute: accept a parameter set below 128-bit security");
  cmd->callback([a] { run_predict(*a); });
}

FHENN_REGISTER_COMMAND("44-predict", setup_predict);

}  // namespace
}  // namespace fhenn::cli
