// Layering probe: the TFHE engine must not see the circuit layer (expected to fail to build).
#include "fhenn/ir/circuit.hpp"
