// Layering probe: the TFHE engine must not see ATen either (expected to fail to build).
#include <ATen/ATen.h>
