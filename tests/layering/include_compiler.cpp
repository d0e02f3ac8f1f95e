// Layering probe: the runtime executes circuits and must not see the compiler (expected to fail to build).
#include "fhenn/compiler/model.hpp"
