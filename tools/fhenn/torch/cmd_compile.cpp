// `fhenn compile`: quantizes a trained model (PTQ, or the QAT model's own quantizers) into an integer circuit.
#include <algorithm>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "demo_pipeline.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/compiler/compatibility.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/deploy/artifacts.hpp"
#include "fhenn/ir/printer.hpp"
#include "output.hpp"
#include "plan_options.hpp"
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
  int lookup_bits = 8;
  std::string measure = "worst-case";
  bool no_precision_check = false;
  std::string json;
  std::string client;  // deployment: the client part, with the engine plan
  std::string server;  // deployment: the server part
  PlanFlags plan;
};

compiler::PrecisionLimits precision_limits(const CompileCommand& c) {
  FHENN_CHECK(c.measure == "worst-case" || c.measure == "seen", "unknown --measure '", c.measure,
              "': use 'worst-case' (every input) or 'seen' (the calibration set, the reference's measure)");
  FHENN_CHECK(c.lookup_bits >= 1, "--lookup-bits must be at least 1, got ", c.lookup_bits);
  return {c.lookup_bits, c.measure == "seen" ? compiler::RangeMeasure::seen : compiler::RangeMeasure::worst_case};
}

void run_compile(const CompileCommand& c) {
  const auto limits = precision_limits(c);
  const AnyModel model = compiler::load_model(c.model);
  const auto data = c.data.load();
  check_model_fits_data(model, data, c.model);
  BitsOptions bits = c.bits;
  bits.max_lookup_bits = std::min(bits.max_lookup_bits, c.lookup_bits);  // auto rounding fits the limit
  const auto compiled = compile_model(model, data, bits, c.plan.options());

  std::ostream& text = c.json == "-" ? std::cerr : std::cout;
  if (compiled.auto_rounding) text << auto_rounding_summary(*compiled.auto_rounding);
  if (c.print || c.print_weights || c.print_tables) {
    text << ir::print_circuit(compiled.circuit, {c.print_weights, c.print_tables}) << "\n";
  }
  text << ir::format_bit_width_report(compiled.report) << "\n";
  text << "accumulator size (largest integer seen on the " << compiled.report.samples
       << " calibration samples): " << compiled.report.accumulator_bits << " bits; worst case "
       << compiled.report.worst_case_accumulator_bits << " bits\n";
  const auto problems = compiler::find_precision_problems(compiled, limits);
  if (!c.no_precision_check) compiler::check_precision(compiled, limits);  // refuses with the computed fixes
  for (const auto& problem : problems) text << "warning (--no-precision-check): " << problem.message << "\n";
  compiler::save_compiled(compiled, c.out);
  text << "saved " << c.out << "\n";
  std::optional<deploy::Deployment> deployment;
  if (!c.client.empty() || !c.server.empty()) {
    FHENN_CHECK(!c.client.empty() && !c.server.empty(), "--client and --server go together: give both paths");
    deployment = plan_deployment(compiled, data.train.features, c.plan.options());
    deploy::save_client_part(deployment->client, c.client);
    deploy::save_server_part(deployment->server, c.server);
    text << runtime::describe_plan(compiled.circuit, deployment->server.plan) << "saved the client part " << c.client
         << " and the server part " << c.server << " (model " << deployment->client.model_id.substr(0, 12) << ")\n";
  }
  if (!c.json.empty()) {
    nlohmann::json j{{"model", c.model},
                     {"compiled", c.out},
                     {"source", compiled.source},
                     {"data", c.data.to_json()},
                     {"bit_widths", bit_width_json(compiled.report)},
                     {"lookup_bits_limit", c.lookup_bits},
                     {"precision_problems", problems.size()}};
    if (compiled.source == "ptq") {
      const auto n = c.bits.ptq().n_bits;
      j["n_bits"] = {{"model_inputs", n.model_inputs},
                     {"op_inputs", n.op_inputs},
                     {"op_weights", n.op_weights},
                     {"model_outputs", n.model_outputs}};
    }
    if (deployment) {
      const auto& plan = deployment->server.plan;
      j["deployment"] = {{"model_id", deployment->client.model_id},
                         {"client", c.client},
                         {"server", c.server},
                         {"parameter_set", plan.params.name},
                         {"parameter_set_secure", plan.params.secure},
                         {"bootstraps_per_sample", plan.bootstraps_per_sample},
                         {"max_lookup_input_bits", plan.max_index_bits},
                         {"p_error_per_lookup", plan.p_error_per_lookup},
                         {"predicted_failure_per_lookup", plan.predicted_failure_per_lookup}};
    }
    j["rounding_threshold_bits"] =
        compiled.rounding_threshold_bits ? nlohmann::json(*compiled.rounding_threshold_bits) : nlohmann::json(nullptr);
    if (compiled.auto_rounding) j["auto_rounding"] = auto_rounding_json(*compiled.auto_rounding);
    write_json(j, c.json);
  }
}

void setup_compile(CLI::App& root) {
  auto* cmd = root.add_subcommand("compile",
                                  "Quantize a trained model into an integer circuit, report the bit "
                                  "width of every node, and save the circuit with the client's quantizers");
  auto c = std::make_shared<CompileCommand>();
  cmd->add_option("--model", c->model, "The trained model (fhenn train)")->required();
  c->data.add_to(*cmd);
  c->bits.add_to(*cmd);
  cmd->add_option("--out", c->out, "Where to save the compiled model (.fhc)")->required();
  cmd->add_flag("--print", c->print, "Print the circuit, one line per node");
  cmd->add_flag("--print-weights", c->print_weights, "Print the circuit with every weight matrix");
  cmd->add_flag("--print-tables", c->print_tables, "Print the circuit with every lookup table");
  cmd->add_option("--lookup-bits", c->lookup_bits, "The engine's table-lookup precision the circuit must fit")
      ->capture_default_str();
  cmd->add_option("--measure", c->measure, "Ranges checked against it: 'worst-case' or 'seen' (calibration set)")
      ->capture_default_str();
  cmd->add_flag("--no-precision-check", c->no_precision_check,
                "Save the circuit even when it is too wide for the engine (for runs in the clear)");
  cmd->add_option("--json", c->json, "Also write the bit-width report as JSON to this file ('-': stdout)");
  cmd->add_option("--client", c->client, "Also plan the circuit for the engine and write the client part here");
  cmd->add_option("--server", c->server, "... and the server part here (the circuit and its plan, nothing secret)");
  c->plan.add_to(*cmd);
  cmd->callback([c] { run_compile(*c); });
}

FHENN_REGISTER_COMMAND("11-compile", setup_compile);

}  // namespace
}  // namespace fhenn::cli
