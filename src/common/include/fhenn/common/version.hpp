// Version and build facts shown by `fhenn version`.
#pragma once

#include <string>
#include <vector>

namespace fhenn {

std::string version_string();
std::string build_type();
bool built_with_torch();
// CPU features present on this machine that fhenn's kernels use (e.g. "avx2", "fma").
std::vector<std::string> cpu_features_used();

}  // namespace fhenn
