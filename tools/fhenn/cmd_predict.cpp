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
  std::string input;
  std::string drop_column;
  std::string mode = "disable";
  std::string format = "csv";
  std::string out = "-";
  uint64_t seed = 0;
  int threads = 0;
};

deploy::Predictions predict(const deploy::Client& client, const Matrix& features, const PredictArgs& a, int threads) {
  const auto& part = client.part();
  if (a.mode == "execute") {
    auto rng = tfhe::Csprng::from_os();
    const auto [secret, evaluation] = client.generate_keys(rng, threads, true);
    const deploy::Server server(deploy::ServerPart{part.model_id, part.compiled.circuit, part.plan});
    return client.decrypt(server.run(client.encrypt(features, secret, rng), evaluation, threads, true), secret);
  }
  FHENN_CHECK(features.cols == part.compiled.client.inputs.size(), "the model takes ",
              part.compiled.client.inputs.size(), " features per sample, the input has ", features.cols);
  runtime::IntMatrix quantized(features.rows, features.cols);
  quantized.values = part.compiled.client.quantize_rows(features);
  std::unique_ptr<runtime::Executor> executor;
  if (a.mode == "simulate") {
    executor = std::make_unique<runtime::SimulatedExecutor>(part.compiled.circuit, part.plan, a.seed, threads);
  } else {
    executor = std::make_unique<runtime::ClearExecutor>(threads);
  }
  return client.predictions_from_outputs(executor->run_batch(part.compiled.circuit, quantized).values, features.rows);
}

void run_predict(const PredictArgs& a) {
  const deploy::Client client(deploy::load_client_part(a.client));
  const CsvTable table = read_csv_table(a.input);
  std::optional<size_t> skip;
  if (!a.drop_column.empty()) skip = table.find_column(a.drop_column);
  const Matrix features = csv_feature_matrix(table, skip);
  write_predictions(predict(client, features, a, a.threads > 0 ? a.threads : default_thread_count()), a.format,
                    a.out, a.mode);
}

void setup_predict(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "predict", "Predict a CSV with a compiled model: in the clear, simulated, or encrypted on this machine");
  auto a = std::make_shared<PredictArgs>();
  cmd->add_option("--client", a->client, "The model's client part (fhenn compile --client)")->required();
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
  cmd->callback([a] { run_predict(*a); });
}

FHENN_REGISTER_COMMAND("44-predict", setup_predict);

}  // namespace
}  // namespace fhenn::cli
