// Layering control: a tfhe-layer file that includes only what tfhe may see; must build.
#include "fhenn/common/error.hpp"
int fhenn_layering_control() { return 0; }
