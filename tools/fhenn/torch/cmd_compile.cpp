// `fhenn compile`: quantizes a trained model (PTQ, or the QAT model's own quantizers) into an integer circuit.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/ir/printer.hpp"
#include "output.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

struct CompileCommand {
  std::string model;
  DataOptions data;
  BitsOptions bits;
  std::string out;
  bool print = false;
  bool print_weights = false;
  bool print_tables = false;
  std::string json;
};

void run_compile(const CompileCommand& c) {
  const AnyModel model = compiler::load_model(c.model);
  const auto data = c.data.load();
  check_model_fits_data(model, data, c.model);
  const auto compiled = compile_model(model, data, c.bits);

  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  if (c.print || c.print_weights || c.print_tables) {
    text << ir::print_circuit(compiled.circuit, {c.print_weights, c.print_tables}) << "\n";
  }
  text << ir::format_bit_width_report(compiled.report) << "\n";
  text << "accumulator size (largest integer seen on the " << compiled.report.samples
       << " calibration samples): " << compiled.report.accumulator_bits << " bits; worst case "
       << compiled.report.worst_case_accumulator_bits << " bits\n";
  compiler::save_compiled(compiled, c.out);
  text << "saved " << c.out << "\n";
  if (!c.json.empty()) {
    nlohmann::json j{{"model", c.model}, {"compiled", c.out}, {"source", compiled.source}, {"data", c.data.to_json()},
                     {"bit_widths", bit_width_json(compiled.report)}};
    if (compiled.source == "ptq") {
      const auto n = c.bits.ptq().n_bits;
      j["n_bits"] = {{"model_inputs", n.model_inputs},
                     {"op_inputs", n.op_inputs},
                     {"op_weights", n.op_weights},
                     {"model_outputs", n.model_outputs}};
    }
    j["rounding_threshold_bits"] = compiled.rounding_threshold_bits ? nlohmann::json(*compiled.rounding_threshold_bits)
                                                                    : nlohmann::json(nullptr);
    write_json(j, c.json);
  }
}

void setup_compile(CLI::App& root) {
  auto* cmd = root.add_subcommand("compile", "Quantize a trained model into an integer circuit, report the bit "
                                             "width of every node, and save the circuit with the client's quantizers");
  auto c = std::make_shared<CompileCommand>();
  cmd->add_option("--model", c->model, "The trained model (fhenn train)")->required();
  c->data.add_to(*cmd);
  c->bits.add_to(*cmd);
  cmd->add_option("--out", c->out, "Where to save the compiled model (.fhc)")->required();
  cmd->add_flag("--print", c->print, "Print the circuit, one line per node");
  cmd->add_flag("--print-weights", c->print_weights, "Print the circuit with every weight matrix");
  cmd->add_flag("--print-tables", c->print_tables, "Print the circuit with every lookup table");
  cmd->add_option("--json", c->json, "Also write the bit-width report as JSON to this file ('-': stdout)");
  cmd->callback([c] { run_compile(*c); });
}

FHENN_REGISTER_COMMAND("11-compile", setup_compile);

}  // namespace
}  // namespace fhenn::cli
