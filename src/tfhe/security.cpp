// The 128-bit security floor (see security.hpp).
#include "fhenn/tfhe/security.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "fhenn/common/error.hpp"

namespace fhenn::tfhe {
namespace {

// Concrete's 128-bit curve for binary keys at q = 2^64 (security.hpp).
constexpr double kCurveSlope = -0.026374888765705498;
constexpr double kCurveBias = 2.012143923330495;
constexpr size_t kCurveMinDimension = 256;
constexpr double kModulusLog2 = 64.0;
constexpr double kMinModularLog2Stddev = 2.0;  // the noise must cover at least the two lowest bits of the modulus

SecurityHalf check_half(size_t dimension, const NoiseDistribution& noise) {
  SecurityHalf half;
  half.dimension = dimension;
  half.log2_stddev = std::log2(noise.stddev().value);
  half.min_log2_stddev = min_secure_log2_stddev(dimension);
  half.secure = half.log2_stddev >= half.min_log2_stddev;
  return half;
}

}  // namespace

double min_secure_log2_stddev(size_t dimension) {
  if (dimension < kCurveMinDimension) return std::numeric_limits<double>::infinity();
  return std::max(kCurveSlope * static_cast<double>(dimension) + kCurveBias, kMinModularLog2Stddev - kModulusLog2);
}

std::string SecurityHalf::describe() const {
  std::ostringstream out;
  out.precision(3);
  out << "dimension " << dimension << ": noise 2^" << log2_stddev;
  if (std::isinf(min_log2_stddev)) {
    out << ", below the curve's smallest dimension " << kCurveMinDimension;
  } else {
    out << ", the 128-bit curve asks for at least 2^" << min_log2_stddev;
  }
  out << (secure ? " (secure)" : " (INSECURE)");
  return out.str();
}

std::string SecurityReport::describe() const {
  return concat("LWE ", lwe.describe(), "; GLWE ", glwe.describe());
}

SecurityReport check_security(const ParameterSet& params) {
  return {check_half(params.lwe_dimension.value, params.lwe_noise),
          check_half(params.big_lwe_dimension().value, params.glwe_noise)};
}

void require_secure(const ParameterSet& params, KeySecurity policy) {
  if (policy == KeySecurity::allow_insecure) return;
  const SecurityReport report = check_security(params);
  FHENN_CHECK(report.secure(), "TFHE parameter set '", params.name, "' is below 128-bit security (",
              report.describe(), "): choose a secure set (leave --parameter-set out to get the cheapest secure one), ",
              "or pass --insecure for tests and experiments only");
}

}  // namespace fhenn::tfhe
