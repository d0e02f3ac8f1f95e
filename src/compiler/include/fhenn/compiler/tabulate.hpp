// Tabulating a function of an integer as a saturating lookup table, within the circuit's size budget.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "fhenn/common/checked.hpp"
#include "fhenn/ir/circuit.hpp"

namespace fhenn::compiler {

// The table of f over `domain`, every entry charged to `budget` before it is allocated. A non-decreasing f
// (`monotone`) over a domain wider than 2^12 is trimmed to where it changes (the saturating table stays exact for
// every integer); a domain needing more than 2^22 entries is refused naming `node`, with the fix.
ir::LookupTable tabulate(ir::Range domain, const std::function<int64_t(int64_t)>& f, bool monotone,
                         const std::string& node, SizeBudget& budget);

}  // namespace fhenn::compiler
