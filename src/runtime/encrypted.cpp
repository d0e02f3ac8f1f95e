// Running a circuit on ciphertexts (see encrypted.hpp).
#include "fhenn/runtime/encrypted.hpp"

#include <algorithm>
#include <span>
#include <vector>

#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/ir/evaluate.hpp"
#include "fhenn/ir/linear_terms.hpp"
#include "fhenn/tfhe/lwe.hpp"

namespace fhenn::runtime {
namespace {

tfhe::Torus encode(int64_t value, int encoding_bits) {
  return static_cast<tfhe::Torus>(value) << (63 - encoding_bits);
}

// (E4): entry j of element i's table is T_i(index_min + j).
tfhe::LookupTable bootstrap_table(const ir::LookupTable& table, int64_t index_min, const LookupPlan& lookup) {
  std::vector<int64_t> values(size_t{1} << lookup.index_bits);
  for (size_t j = 0; j < values.size(); ++j) values[j] = table.at(index_min + static_cast<int64_t>(j));
  return tfhe::LookupTable(static_cast<size_t>(lookup.index_bits), std::move(values),
                           static_cast<size_t>(lookup.output_encoding_bits));
}

// Per planned lookup, per element: the table entry a folded (constant) element takes. No ciphertext reaches such
// an element, so its value is the same for every input: the clear circuit's value at the smallest inputs.
std::vector<std::vector<int64_t>> folded_values(const ir::Circuit& circuit, const EnginePlan& plan) {
  std::vector<int64_t> inputs;
  for (ir::NodeId id : circuit.inputs()) {
    inputs.insert(inputs.end(), circuit.node(id).width, std::get<ir::InputOp>(circuit.node(id).op).range.min);
  }
  std::vector<int64_t> values(circuit.node_values_size());
  ir::evaluate_nodes(circuit, inputs, values);
  std::vector<std::vector<int64_t>> folded;
  for (const auto& lookup : plan.lookups) {
    const auto node_values = ir::node_slice(circuit, lookup.node, values);
    folded.emplace_back(node_values.begin(), node_values.end());
  }
  return folded;
}

// w * 2^shift modulo 2^64: a clear weight applied to a ciphertext encoded `shift` bits wider than the result.
tfhe::Torus scaled_weight(int64_t weight, int shift) {
  return static_cast<tfhe::Torus>(weight) << shift;
}

}  // namespace

ClientEncodings client_encodings(const ir::Circuit& circuit, const EnginePlan& plan) {
  ClientEncodings e;
  for (ir::NodeId id : circuit.inputs()) {
    const ir::Node& node = circuit.node(id);
    e.input_ranges.insert(e.input_ranges.end(), node.width, std::get<ir::InputOp>(node.op).range);
    e.input_bits.insert(e.input_bits.end(), node.width, plan.encoding_bits[id]);
  }
  for (ir::NodeId id : circuit.outputs()) {
    const ir::Node& node = circuit.node(id);
    e.output_bits.insert(e.output_bits.end(), node.width, plan.encoding_bits[node.operands[0]]);
  }
  return e;
}

void validate_encodings(const ClientEncodings& e, const std::string& what) {
  FHENN_CHECK(!e.input_ranges.empty() && e.input_ranges.size() == e.input_bits.size() && !e.output_bits.empty(), what,
              " is corrupted: ", e.input_ranges.size(), " input ranges, ", e.input_bits.size(), " input encodings and ",
              e.output_bits.size(), " output encodings");
  const auto valid_bits = [](int bits) { return bits >= 1 && bits <= 62; };
  for (size_t i = 0; i < e.input_bits.size(); ++i) {
    const int64_t limit = int64_t{1} << std::min(e.input_bits[i], 62);
    FHENN_CHECK(valid_bits(e.input_bits[i]) && e.input_ranges[i].min <= e.input_ranges[i].max &&
                    e.input_ranges[i].min >= -limit && e.input_ranges[i].max < limit,
                what, " is corrupted: input ", i, " has range [", e.input_ranges[i].min, ", ", e.input_ranges[i].max,
                "] with a ", e.input_bits[i], "-bit encoding");
  }
  for (size_t i = 0; i < e.output_bits.size(); ++i) {
    FHENN_CHECK(valid_bits(e.output_bits[i]), what, " is corrupted: output ", i, " has a ", e.output_bits[i],
                "-bit encoding");
  }
}

namespace {

// Checks every input integer against its range; returns each one's encoding width.
std::vector<int> checked_input_encodings(const ClientEncodings& encodings, std::span<const int64_t> inputs) {
  const size_t width = encodings.input_bits.size();
  FHENN_CHECK(width > 0 && inputs.size() % width == 0, "expected a multiple of ", width, " input integers, got ",
              inputs.size());
  std::vector<int> bits(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    const size_t i = k % width;
    const ir::Range range = encodings.input_ranges[i];
    FHENN_CHECK(range.contains(inputs[k]), "sample ", k / width, ": input ", i, " is ", inputs[k],
                ", outside its declared range [", range.min, ", ", range.max,
                "]: quantize the features with the model's client quantizers");
    bits[k] = encodings.input_bits[i];
  }
  return bits;
}

}  // namespace

std::vector<tfhe::LweCiphertext> encrypt_inputs(const ClientEncodings& encodings, const tfhe::ClientKey& key,
                                                std::span<const int64_t> inputs, tfhe::Csprng& rng) {
  const std::vector<int> bits = checked_input_encodings(encodings, inputs);
  std::vector<tfhe::LweCiphertext> out;
  out.reserve(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    out.push_back(tfhe::encrypt_integer_with_encoding(key, inputs[k], static_cast<size_t>(bits[k]), rng));
  }
  return out;
}

tfhe::SeededCiphertexts encrypt_inputs_seeded(const ClientEncodings& encodings, const tfhe::ClientKey& key,
                                              std::span<const int64_t> inputs, tfhe::Csprng& rng) {
  return tfhe::encrypt_integers_seeded(key, inputs, checked_input_encodings(encodings, inputs), rng);
}

std::vector<tfhe::LweCiphertext> encrypt_inputs(const ir::Circuit& circuit, const EnginePlan& plan,
                                                const tfhe::ClientKey& key, std::span<const int64_t> inputs,
                                                tfhe::Csprng& rng) {
  return encrypt_inputs(client_encodings(circuit, plan), key, inputs, rng);
}

std::vector<int64_t> decrypt_outputs(const ClientEncodings& encodings, const tfhe::ClientKey& key,
                                     std::span<const tfhe::LweCiphertext> outputs) {
  const size_t width = encodings.output_bits.size();
  FHENN_CHECK(width > 0 && outputs.size() % width == 0, "expected a multiple of ", width, " result ciphertexts, got ",
              outputs.size());
  std::vector<int64_t> values;
  values.reserve(outputs.size());
  for (size_t k = 0; k < outputs.size(); ++k) {
    values.push_back(tfhe::decrypt_signed_integer_with_encoding(key, outputs[k],
                                                                static_cast<size_t>(encodings.output_bits[k % width])));
  }
  return values;
}

std::vector<int64_t> decrypt_outputs(const ir::Circuit& circuit, const EnginePlan& plan, const tfhe::ClientKey& key,
                                     std::span<const tfhe::LweCiphertext> outputs) {
  return decrypt_outputs(client_encodings(circuit, plan), key, outputs);
}

EncryptedEvaluator::EncryptedEvaluator(const ir::Circuit& circuit, const EnginePlan& plan, const tfhe::ServerKey& key,
                                       int threads)
    : circuit_(circuit),
      plan_(plan),
      key_(key),
      threads_(std::max(threads, 1)),
      ciphertext_size_(tfhe::lwe_size(key.params.big_lwe_dimension())) {
  FHENN_CHECK(plan.encoding_bits.size() == circuit.nodes().size(),
              "the engine plan was made for another circuit: compile and plan again");
  FHENN_CHECK(key.params.same_keys_as(plan.params), "the evaluation keys are for parameter set '", key.params.name,
              "', the circuit was planned for '", plan.params.name, "': generate keys for this circuit");
  for (const auto& lookup : plan.lookups) {
    const auto& tables = std::get<ir::TableLookupOp>(circuit.node(lookup.node).op).tables;
    FHENN_CHECK(lookup.index_min.size() == tables.size(), "the engine plan was made for another circuit");
    auto& built = tables_.emplace_back();
    for (size_t t = 0; t < tables.size(); ++t) built.push_back(bootstrap_table(tables[t], lookup.index_min[t], lookup));
  }
  folded_ = folded_values(circuit, plan);
}

// (C2), (C6)-(C10) on ciphertexts: out = sum of w * 2^(e_operand - e) * ct + encode(constant), exact modulo 2^64.
void EncryptedEvaluator::run_linear(ir::NodeId id, size_t samples,
                                    std::vector<std::vector<tfhe::Torus>>& values) const {
  const ir::Node& node = circuit_.node(id);
  const ir::LinearTerms terms(node, circuit_.nodes());
  const size_t size = ciphertext_size_;
  const int bits = plan_.encoding_bits[id];
  std::vector<int> shifts;
  std::vector<size_t> widths;
  for (ir::NodeId o : node.operands) {
    shifts.push_back(plan_.encoding_bits[o] - bits);
    widths.push_back(circuit_.node(o).width);
  }
  values[id].assign(samples * node.width * size, 0);
  parallel_for(samples * node.width, threads_, [&](size_t item, int) {
    const size_t s = item / node.width;
    const size_t i = item % node.width;
    std::span<tfhe::Torus> out(values[id].data() + item * size, size);
    const int64_t constant = terms.visit(i, [&](size_t slot, size_t j, int64_t w) {
      const tfhe::Torus* in = values[node.operands[slot]].data() + (s * widths[slot] + j) * size;
      tfhe::add_scaled_lwe(out, std::span<const tfhe::Torus>(in, size), scaled_weight(w, shifts[slot]));
    });
    if (constant != 0) tfhe::add_plaintext_to_lwe(out, encode(constant, bits));
  });
}

void EncryptedEvaluator::run_lookup(const LookupPlan& lookup, size_t samples,
                                    std::vector<std::vector<tfhe::Torus>>& values, ProgressBar* progress) const {
  const ir::Node& node = circuit_.node(lookup.node);
  const size_t size = ciphertext_size_;
  const size_t plan_index = static_cast<size_t>(&lookup - plan_.lookups.data());
  const int lookup_bits = lookup.lookup_bits();
  const auto& op = std::get<ir::TableLookupOp>(node.op);
  values[lookup.node].assign(samples * node.width * size, 0);
  // Constant elements are trivial ciphertexts; the others run in groups that share each pass over the keys.
  std::vector<size_t> bootstrapped;
  for (size_t item = 0; item < samples * node.width; ++item) {
    const size_t i = item % node.width;
    if (!lookup.constant[i]) {
      bootstrapped.push_back(item);
      continue;
    }
    // a trivial ciphertext (0, ..., 0, v * Delta) of the folded value
    values[lookup.node][item * size + size - 1] = encode(folded_[plan_index][i], lookup.output_encoding_bits);
  }
  const size_t group_size = tfhe::kBootstrapGroup;
  const size_t groups = (bootstrapped.size() + group_size - 1) / group_size;
  const size_t scratch_size = tfhe::keyswitch_bootstrap_group_scratch_size(key_, group_size);
  std::vector<tfhe::FourierBuffer> scratch(static_cast<size_t>(threads_), tfhe::FourierBuffer(scratch_size));
  std::vector<std::vector<tfhe::Torus>> shifted(static_cast<size_t>(threads_),
                                                std::vector<tfhe::Torus>(group_size * size));
  parallel_for(groups, threads_, [&](size_t g, int worker) {
    const size_t first = g * group_size;
    const size_t count = std::min(group_size, bootstrapped.size() - first);
    std::vector<std::span<const tfhe::Torus>> ins;
    std::vector<const tfhe::LookupTable*> tables;
    std::vector<std::span<tfhe::Torus>> outs;
    for (size_t b = 0; b < count; ++b) {
      const size_t item = bootstrapped[first + b];
      const size_t t = ir::table_index(op, node.width, item % node.width);
      std::span<tfhe::Torus> in(shifted[static_cast<size_t>(worker)].data() + b * size, size);
      const tfhe::Torus* accumulator = values[lookup.accumulator].data() + item * size;
      // (E5): from the accumulator's encoding to the lookup's (exact modulo 2^64).
      tfhe::multiply_lwe_by_integer(std::span<const tfhe::Torus>(accumulator, size),
                                    static_cast<int64_t>(scaled_weight(1, lookup.input_scale_shift)), in);
      // (E2): move the smallest rounded value to index 0; when bits are dropped, add half an accumulator unit so
      // that no integer sits on a rounding boundary (ties still round up, as round_msbs, but noise must now move
      // a value at least half a unit to change its rounding).
      tfhe::add_plaintext_to_lwe(in, encode(-(lookup.index_min[t] << lookup.shift), lookup_bits) +
                                         (lookup.shift > 0 ? tfhe::Torus{1} << (62 - lookup_bits) : 0));
      ins.push_back(in);
      tables.push_back(&tables_[plan_index][t]);
      outs.emplace_back(values[lookup.node].data() + item * size, size);
    }
    tfhe::keyswitch_bootstrap_group(ins, tables, key_, outs, scratch[static_cast<size_t>(worker)]);
    if (progress != nullptr) progress->advance(count);
  });
}

std::vector<tfhe::LweCiphertext> EncryptedEvaluator::evaluate(std::span<const tfhe::LweCiphertext> inputs,
                                                              ProgressBar* progress) const {
  const size_t in_width = circuit_.input_width();
  FHENN_CHECK(in_width > 0 && inputs.size() % in_width == 0, "expected a multiple of ", in_width,
              " input ciphertexts, got ", inputs.size());
  const size_t samples = inputs.size() / in_width;
  const size_t size = ciphertext_size_;
  for (const auto& ct : inputs) {
    FHENN_CHECK(ct.data.size() == size, "an input ciphertext has ", ct.data.size(), " words, the parameter set '",
                key_.params.name, "' needs ", size, ": it was encrypted for another circuit or key");
  }
  std::vector<std::vector<tfhe::Torus>> values(circuit_.nodes().size());
  size_t input_offset = 0;
  for (ir::NodeId id : circuit_.inputs()) {  // sample-major inputs -> one buffer per input node
    const size_t width = circuit_.node(id).width;
    values[id].resize(samples * width * size);
    for (size_t s = 0; s < samples; ++s) {
      for (size_t i = 0; i < width; ++i) {
        const auto& ct = inputs[s * in_width + input_offset + i];
        std::copy(ct.data.begin(), ct.data.end(),
                  values[id].begin() + static_cast<std::ptrdiff_t>((s * width + i) * size));
      }
    }
    input_offset += width;
  }
  for (ir::NodeId id = 0; id < circuit_.nodes().size(); ++id) {
    switch (circuit_.node(id).kind()) {
      case ir::OpKind::dot_product:
      case ir::OpKind::conv2d:
      case ir::OpKind::weighted_sum:
      case ir::OpKind::reshape:
      case ir::OpKind::concat:
      case ir::OpKind::slice:
        run_linear(id, samples, values);
        break;
      case ir::OpKind::table_lookup:
        run_lookup(*plan_.lookup_for(id), samples, values, progress);
        break;
      case ir::OpKind::output:
        values[id] = values[circuit_.node(id).operands[0]];
        break;
      case ir::OpKind::input:
      case ir::OpKind::round:  // rounding happens inside the lookup's bootstrap (E3)
        break;
    }
  }
  std::vector<tfhe::LweCiphertext> outputs;
  outputs.reserve(samples * circuit_.output_width());
  for (size_t s = 0; s < samples; ++s) {
    for (ir::NodeId id : circuit_.outputs()) {
      const size_t width = circuit_.node(id).width;
      for (size_t i = 0; i < width; ++i) {
        tfhe::LweCiphertext ct;
        const auto begin = values[id].begin() + static_cast<std::ptrdiff_t>((s * width + i) * size);
        ct.data.assign(begin, begin + static_cast<std::ptrdiff_t>(size));
        outputs.push_back(std::move(ct));
      }
    }
  }
  return outputs;
}

EncryptedExecutor::EncryptedExecutor(const ir::Circuit& circuit, EnginePlan plan, const tfhe::ClientKey& client_key,
                                     const tfhe::ServerKey& server_key, int threads, tfhe::Csprng rng)
    : circuit_(circuit),
      plan_(std::move(plan)),
      client_key_(client_key),
      evaluator_(circuit, plan_, server_key, threads),
      rng_(std::move(rng)) {}

std::vector<int64_t> EncryptedExecutor::run(const ir::Circuit& circuit, std::span<const int64_t> inputs) {
  return run_as_batch(circuit, inputs);
}

IntMatrix EncryptedExecutor::run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) {
  FHENN_CHECK(&circuit == &circuit_ || circuit == circuit_, "this encrypted executor was built for another circuit");
  const auto ciphertexts = encrypt_inputs(circuit_, plan_, client_key_, inputs.values, rng_);
  std::unique_ptr<ProgressBar> progress;
  if (!progress_label_.empty()) {
    progress = std::make_unique<ProgressBar>(progress_label_, inputs.rows * plan_.bootstraps_per_sample);
  }
  const auto results = evaluator_.evaluate(ciphertexts, progress.get());
  if (progress) progress->finish();
  IntMatrix out(inputs.rows, circuit_.output_width());
  out.values = decrypt_outputs(circuit_, plan_, client_key_, results);
  return out;
}

}  // namespace fhenn::runtime
