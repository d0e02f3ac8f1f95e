// The exact statistics of statistics.hpp against values computed to 40 digits with mpmath (betainc, gammainc).
#include "statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fhenn::tfhe::testing {
namespace {

TEST(Statistics, IncompleteBetaMatchesKnownValues) {
  EXPECT_NEAR(regularized_incomplete_beta(2, 3, 0.5), 0.6875, 1e-14);  // P(Binomial(4, 1/2) >= 2) = 11/16
  EXPECT_NEAR(regularized_incomplete_beta(0.5, 3.5, 0.2), 0.77254718194023687815, 1e-13);
  EXPECT_NEAR(regularized_incomplete_beta(100, 2, 0.999), 0.99527136182507994624, 1e-13);
  EXPECT_DOUBLE_EQ(regularized_incomplete_beta(3, 4, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(regularized_incomplete_beta(3, 4, 1.0), 1.0);
  // symmetry I_x(a, b) = 1 - I_(1-x)(b, a), on both sides of the continued fraction's switch
  for (double x : {0.1, 0.45, 0.55, 0.9}) {
    EXPECT_NEAR(regularized_incomplete_beta(7.5, 3, x), 1 - regularized_incomplete_beta(3, 7.5, 1 - x), 1e-14);
  }
}

TEST(Statistics, IncompleteGammaMatchesKnownValues) {
  EXPECT_NEAR(regularized_lower_gamma(0.5, 0.1), 0.34527915398142297060, 1e-14);  // series branch
  EXPECT_NEAR(regularized_lower_gamma(10, 7), 0.16950406276132655771, 1e-14);
  EXPECT_NEAR(regularized_lower_gamma(500, 520), 0.81530885090125639576, 1e-11);  // continued fraction branch
  EXPECT_NEAR(regularized_lower_gamma(50000, 50300), 0.90995156420883113583, 1e-9);
  EXPECT_NEAR(regularized_lower_gamma(1, 2), 1 - std::exp(-2.0), 1e-15);  // exponential distribution
}

TEST(Statistics, BinomialCdfIsTheIncompleteBeta) {
  // P(X <= 1) for Binomial(10, 0.2) = 0.8^10 + 10 * 0.2 * 0.8^9
  EXPECT_NEAR(binomial_cdf(1, 10, 0.2), std::pow(0.8, 10) + 2 * std::pow(0.8, 9), 1e-14);
  EXPECT_DOUBLE_EQ(binomial_cdf(10, 10, 0.3), 1.0);
}

TEST(Statistics, ClopperPearsonMatchesKnownIntervals) {
  struct Case {
    size_t k, n;
    double level, low, high;
  };
  const Case cases[] = {
      {5, 10, 0.95, 0.187086028447399, 0.812913971552601},
      {0, 10, 0.95, 0.0, 0.308497107818761},  // 1 - 0.025^(1/10)
      {3, 20, 0.95, 0.0320709371854637, 0.378926826545314},
      {10, 10, 0.99, 0.588704018652475, 1.0},
      {82, 60000, 0.99, 0.00100939626408448, 0.00180527147160711},
      {1, 1000000, 0.99, 5.01254181098149e-9, 7.43010561197853e-6},
      {300, 30000, 0.99, 0.00858146447361177, 0.0115763015331889},
      {25, 250000, 0.99, 5.59826179242131e-5, 0.000163996403203513},
  };
  for (const Case& c : cases) {
    const Interval i = clopper_pearson(c.k, c.n, c.level);
    EXPECT_NEAR(i.low, c.low, 1e-9 * std::max(c.low, 1e-6)) << c.k << "/" << c.n;
    EXPECT_NEAR(i.high, c.high, 1e-9 * c.high) << c.k << "/" << c.n;
  }
  EXPECT_TRUE(rate_within_clopper_pearson(82, 60000, 1.37e-3, 0.99));
  EXPECT_FALSE(rate_within_clopper_pearson(82, 60000, 2.0e-3, 0.99));
  EXPECT_FALSE(rate_within_clopper_pearson(82, 60000, 0.9e-3, 0.99));
}

TEST(Statistics, ChiSquareQuantilesMatchKnownValues) {
  struct Case {
    double degrees, q, x;
  };
  const Case cases[] = {
      {1, 0.0005, 3.92699133102922e-7}, {1, 0.9995, 12.1156651463972},   {10, 0.025, 3.24697278023684},
      {10, 0.975, 20.4831773508074},    {1000, 0.0005, 859.36150558063}, {1000, 0.9995, 1153.73785006483},
      {100000, 0.0005, 98534.9802705},  {100000, 0.9995, 101478.12311},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(chi_square_quantile(c.q, c.degrees), c.x, 1e-9 * c.x) << c.degrees << " " << c.q;
  }
}

// The standard normal quantile, by bisection on its cdf.
double normal_quantile(double u) {
  return detail::bisect_increasing([](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }, u, -40.0, 40.0);
}

TEST(Statistics, ChiSquareVarianceTestAcceptsTheTruthAndRejectsAFivePercentError) {
  // 20000 deterministic standard normal samples (the quantiles at the midpoints): a mean square of ~1.
  std::vector<double> xs;
  const size_t n = 20000;
  for (size_t i = 0; i < n; ++i) xs.push_back(normal_quantile((static_cast<double>(i) + 0.5) / static_cast<double>(n)));
  EXPECT_TRUE(variance_within_chi_square(xs, 1.0));
  EXPECT_FALSE(variance_within_chi_square(xs, 1.05));  // 99.9% band for n = 20000 is about +-3.3%
  EXPECT_FALSE(variance_within_chi_square(xs, 0.95));
  const VarianceTest t = chi_square_variance_test(xs, 1.0, 0.999);
  EXPECT_NEAR(t.kurtosis, 3.0, 0.05);
  EXPECT_NEAR(t.band.low, chi_square_quantile(0.0005, n) / n, 1e-12);
}

}  // namespace
}  // namespace fhenn::tfhe::testing
