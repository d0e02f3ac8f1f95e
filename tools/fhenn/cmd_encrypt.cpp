// `fhenn encrypt` (client): reads a CSV of inputs, quantizes them, encrypts them for the server.
#include <iostream>

#include "command.hpp"
#include "fhenn/common/artifact.hpp"
#include "fhenn/common/csv.hpp"
#include "fhenn/deploy/client.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

struct EncryptArgs {
  std::string client;
  std::string secret_key = "secret.key";
  std::string input;
  std::string drop_column;
  std::string out = "inputs.enc";
  std::string json;
};

void run_encrypt(const EncryptArgs& a) {
  const deploy::Client client(deploy::load_client_part(a.client));
  const auto secret = deploy::load_secret_keys(a.secret_key);
  const CsvTable table = read_csv_table(a.input);
  std::optional<size_t> skip;
  if (!a.drop_column.empty()) skip = table.find_column(a.drop_column);
  const Matrix features = csv_feature_matrix(table, skip);
  auto rng = tfhe::Csprng::from_os();
  const auto batch = client.encrypt(features, secret, rng);
  const auto bytes = deploy::serialize_batch(batch, client.spec().params);
  write_file_bytes(a.out, bytes);
  // Seed-compressed: 8 bytes per ciphertext plus a fixed header (ids, parameters, the mask seed, checksums).
  const size_t count = batch.seeded->bodies.size();
  const size_t header = bytes.size() - count * sizeof(tfhe::Torus);
  const nlohmann::json report = {{"samples", batch.samples},
                                 {"ciphertexts", count},
                                 {"bytes", bytes.size()},
                                 {"header_bytes", header},
                                 {"bytes_per_ciphertext", sizeof(tfhe::Torus)},
                                 {"bytes_per_sample", batch.width * sizeof(tfhe::Torus)},
                                 {"out", a.out}};
  if (!a.json.empty()) write_json(report, a.json);
  if (a.json != "-") {
    std::cout << "encrypted " << batch.samples << " samples (" << count << " seed-compressed ciphertexts, "
              << bytes.size() << " bytes: " << header << " of header, " << sizeof(tfhe::Torus)
              << " per ciphertext) -> " << a.out << "\n";
  }
}

void setup_encrypt(CLI::App& root) {
  auto* cmd = root.add_subcommand("encrypt", "Client: quantize and encrypt a CSV of inputs for the server");
  auto a = std::make_shared<EncryptArgs>();
  cmd->add_option("--client", a->client, "The model's client part")->required();
  cmd->add_option("--secret-key", a->secret_key, "The secret key (fhenn keygen)");
  cmd->add_option("--input", a->input, "CSV of inputs: one row per sample, one column per feature")->required();
  cmd->add_option("--drop-column", a->drop_column, "A column to ignore, e.g. the label (needs a header row)");
  cmd->add_option("--out", a->out, "Where to write the encrypted inputs");
  cmd->add_option("--json", a->json, "Also write a JSON report to this file ('-': stdout only)");
  cmd->callback([a] { run_encrypt(*a); });
}

FHENN_REGISTER_COMMAND("41-encrypt", setup_encrypt);

}  // namespace
}  // namespace fhenn::cli
