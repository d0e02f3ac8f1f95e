// Version and build facts (see version.hpp).
#include "fhenn/common/version.hpp"

namespace fhenn {

std::string version_string() {
  return FHENN_VERSION;
}
std::string build_type() {
  return FHENN_BUILD_TYPE;
}

bool built_with_torch() {
#if defined(FHENN_HAS_TORCH)
  return true;
#else
  return false;
#endif
}

std::vector<std::string> cpu_features_used() {
  std::vector<std::string> features;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) features.emplace_back("avx2");
  if (__builtin_cpu_supports("fma")) features.emplace_back("fma");
  if (__builtin_cpu_supports("avx512f")) features.emplace_back("avx512f");
  if (__builtin_cpu_supports("avx512dq")) features.emplace_back("avx512dq");
  if (__builtin_cpu_supports("avx512vl")) features.emplace_back("avx512vl");
  if (__builtin_cpu_supports("aes")) features.emplace_back("aes-ni");
#endif
  return features;
}

}  // namespace fhenn
