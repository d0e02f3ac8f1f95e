// A readable listing of a circuit (`fhenn compile --print`).
#pragma once

#include <string>

#include "fhenn/ir/circuit.hpp"

namespace fhenn::ir {

struct PrintOptions {
  bool weights = false;  // every dot product's weight matrix and constants
  bool tables = false;   // every lookup table's entries
};

// One line per node: "%3 = table_lookup fc1.lookup [10] (%2)  ..." with a summary of its payload
// (weight count, non-zeros and range; table sizes and entry range; rounding shift), details on request.
std::string print_circuit(const Circuit& circuit, const PrintOptions& options = {});

}  // namespace fhenn::ir
