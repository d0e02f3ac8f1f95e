// Layering probe: the circuit layer must not see the TFHE engine (expected to fail to build).
#include "fhenn/tfhe/parameters.hpp"
