// Exact statistics for the noise tests: incomplete beta and gamma, Clopper-Pearson intervals, chi-square bounds.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <vector>

namespace fhenn::tfhe::testing {

namespace detail {

inline constexpr int kMaxFractionTerms = 100000;  // enough for a, b up to ~10^9 (terms grow like sqrt(max(a, b)))
inline constexpr double kEpsilon = 1e-16;
inline constexpr double kTiny = 1e-300;

// Continued fraction of the incomplete beta function, modified Lentz (Numerical Recipes, 3rd ed., 6.4).
inline double beta_fraction(double a, double b, double x) {
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  d = 1.0 / (std::abs(d) < kTiny ? kTiny : d);
  double h = d;
  for (int m = 1; m <= kMaxFractionTerms; ++m) {
    const double m2 = 2.0 * m;
    for (const double coefficient :
         {m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))}) {
      d = 1.0 + coefficient * d;
      d = 1.0 / (std::abs(d) < kTiny ? kTiny : d);
      c = 1.0 + coefficient / c;
      if (std::abs(c) < kTiny) c = kTiny;
      h *= d * c;
    }
    if (std::abs(d * c - 1.0) < kEpsilon) return h;
  }
  return h;
}

// Series of the lower incomplete gamma function, sum_n x^n / (a (a+1) ... (a+n)), for x < a + 1.
inline double gamma_series(double a, double x) {
  double term = 1.0 / a, sum = term;
  for (int n = 1; n <= kMaxFractionTerms && std::abs(term) > std::abs(sum) * kEpsilon; ++n) {
    term *= x / (a + n);
    sum += term;
  }
  return sum;
}

// Continued fraction of the upper incomplete gamma function (modified Lentz), for x >= a + 1.
inline double gamma_fraction(double a, double x) {
  double b = x + 1.0 - a, c = 1.0 / kTiny, d = 1.0 / b, h = d;
  for (int i = 1; i <= kMaxFractionTerms; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    d = 1.0 / (std::abs(d) < kTiny ? kTiny : d);
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    h *= d * c;
    if (std::abs(d * c - 1.0) < kEpsilon) break;
  }
  return h;
}

// The x in [low, high] where the increasing function f crosses `target`, by bisection to double precision.
inline double bisect_increasing(const std::function<double(double)>& f, double target, double low, double high) {
  for (int i = 0; i < 400 && low < high; ++i) {
    const double mid = low + (high - low) / 2;
    if (mid <= low || mid >= high) break;
    (f(mid) < target ? low : high) = mid;
  }
  return low + (high - low) / 2;
}

}  // namespace detail

// Regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), a, b > 0.
inline double regularized_incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * detail::beta_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * detail::beta_fraction(b, a, 1.0 - x) / b;
}

// Regularized lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a), a > 0.
inline double regularized_lower_gamma(double a, double x) {
  if (x <= 0.0) return 0.0;
  const double log_front = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) return std::exp(log_front) * detail::gamma_series(a, x);
  return 1.0 - std::exp(log_front) * detail::gamma_fraction(a, x);
}

// P(X <= k) for X ~ Binomial(n, p): I_(1-p)(n - k, k + 1).
inline double binomial_cdf(size_t k, size_t n, double p) {
  if (k >= n) return 1.0;
  return regularized_incomplete_beta(static_cast<double>(n - k), static_cast<double>(k) + 1.0, 1.0 - p);
}

// P(X <= x) for X ~ chi-square with `degrees` degrees of freedom: P(degrees / 2, x / 2).
inline double chi_square_cdf(double x, double degrees) {
  return regularized_lower_gamma(degrees / 2.0, x / 2.0);
}

// The q-quantile of chi-square(degrees), 0 < q < 1, by bisection on the exact cdf.
inline double chi_square_quantile(double q, double degrees) {
  double high = degrees + 10.0;
  while (chi_square_cdf(high, degrees) < q) high *= 2.0;
  return detail::bisect_increasing([degrees](double x) { return chi_square_cdf(x, degrees); }, q, 0.0, high);
}

struct Interval {
  double low = 0.0;
  double high = 0.0;
  bool contains(double x) const { return low <= x && x <= high; }
};

// Exact two-sided binomial confidence interval (Clopper & Pearson, Biometrika 1934) for `successes` out of
// `trials` at confidence `level`: low solves P(X >= k | low) = (1 - level)/2, i.e. I_low(k, n - k + 1) = alpha/2,
// high solves P(X <= k | high) = alpha/2, i.e. I_high(k + 1, n - k) = 1 - alpha/2.
inline Interval clopper_pearson(size_t successes, size_t trials, double level) {
  const double alpha = 1.0 - level;
  const double k = static_cast<double>(successes), n = static_cast<double>(trials);
  Interval interval{0.0, 1.0};
  if (successes > 0) {
    interval.low = detail::bisect_increasing([&](double p) { return regularized_incomplete_beta(k, n - k + 1.0, p); },
                                             alpha / 2.0, 0.0, 1.0);
  }
  if (successes < trials) {
    interval.high = detail::bisect_increasing([&](double p) { return regularized_incomplete_beta(k + 1.0, n - k, p); },
                                              1.0 - alpha / 2.0, 0.0, 1.0);
  }
  return interval;
}

// Checks that the measured failure count is consistent with the predicted rate: the exact binomial interval at
// `level` contains the prediction.
inline ::testing::AssertionResult rate_within_clopper_pearson(size_t failures, size_t trials, double predicted,
                                                              double level) {
  const Interval interval = clopper_pearson(failures, trials, level);
  if (interval.contains(predicted)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures << " failures out of " << trials << " (rate "
                                       << static_cast<double>(failures) / static_cast<double>(trials) << "): the exact "
                                       << 100 * level << "% interval [" << interval.low << ", " << interval.high
                                       << "] excludes the predicted rate " << predicted;
}

// Chi-square variance test. For n independent samples of a centred normal with variance v, sum(x^2) / v is
// chi-square(n); the test accepts v when the statistic lies in the two-sided interval at `level`.
//
// Noise that is not exactly normal: the TUniform noise, the rounding errors (uniform) and sums of products of
// uniform digits with fixed noise are all platykurtic (E[x^4] <= 3 v^2), and a non-zero conditional mean (the
// key-switch's, v counting it as E[x^2]) also lowers the spread of sum(x^2); for those the exact chi-square
// interval is conservative (Var(sum x^2) = n (E[x^4] - v^2) <= 2 n v^2). When the measured kurtosis exceeds 3 the
// interval's half-widths are scaled by sqrt((kurtosis - 1) / 2), the fourth-moment spread of sum(x^2).
struct VarianceTest {
  double ratio = 0.0;  // mean square / predicted
  Interval band;       // accepted ratios
  double kurtosis = 0.0;
  size_t samples = 0;
};

inline VarianceTest chi_square_variance_test(const std::vector<double>& xs, double predicted, double level) {
  double m2 = 0.0, m4 = 0.0;
  for (double x : xs) {
    m2 += x * x;
    m4 += x * x * x * x;
  }
  const double n = static_cast<double>(xs.size());
  VarianceTest t;
  t.samples = xs.size();
  t.ratio = m2 / n / predicted;
  t.kurtosis = m4 * n / (m2 * m2);
  const double widen = std::sqrt(std::max(1.0, (t.kurtosis - 1.0) / 2.0));
  const double low = chi_square_quantile((1.0 - level) / 2.0, n) / n;
  const double high = chi_square_quantile((1.0 + level) / 2.0, n) / n;
  t.band = {1.0 - (1.0 - low) * widen, 1.0 + (high - 1.0) * widen};
  return t;
}

inline ::testing::AssertionResult variance_within_chi_square(const std::vector<double>& xs, double predicted,
                                                             double level = 0.999) {
  const VarianceTest t = chi_square_variance_test(xs, predicted, level);
  if (t.band.contains(t.ratio)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "mean square " << t.ratio * predicted << " vs predicted variance "
                                       << predicted << ": ratio " << t.ratio << " outside the exact chi-square("
                                       << t.samples << ") " << 100 * level << "% band [" << t.band.low << ", "
                                       << t.band.high << "] (kurtosis " << t.kurtosis << ")";
}

}  // namespace fhenn::tfhe::testing
