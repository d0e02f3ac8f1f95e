// Layering probe: the TFHE engine must not see LibTorch (expected to fail to build).
#include <torch/torch.h>
