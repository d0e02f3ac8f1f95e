// Tabulating functions as saturating lookup tables (see tabulate.hpp).
#include "fhenn/compiler/tabulate.hpp"

#include "fhenn/common/error.hpp"

namespace fhenn::compiler {
namespace {

// Domains up to this size are tabulated entry by entry; wider ones are trimmed to where f changes.
constexpr int64_t kUntrimmedTableEntries = int64_t{1} << 12;
constexpr int64_t kMaxTableEntries = int64_t{1} << 22;

// Narrows [min, max] to the part where the non-decreasing f is not constant, keeping one entry of each
// constant end: the saturating table then equals f on every integer of the domain, and beyond.
ir::Range trim_constant_ends(ir::Range domain, const std::function<int64_t(int64_t)>& f) {
  const int64_t low_value = f(domain.min);
  const int64_t high_value = f(domain.max);
  int64_t lo = domain.min;
  int64_t hi = domain.max;
  while (lo < hi) {  // the last x with f(x) == low_value
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (f(mid) == low_value)
      lo = mid;
    else
      hi = mid - 1;
  }
  const int64_t start = lo;
  hi = domain.max;
  while (lo < hi) {  // the first x with f(x) == high_value
    const int64_t mid = lo + (hi - lo) / 2;
    if (f(mid) == high_value)
      hi = mid;
    else
      lo = mid + 1;
  }
  return {start, lo};
}

}  // namespace

ir::LookupTable tabulate(ir::Range domain, const std::function<int64_t(int64_t)>& f, bool monotone,
                         const std::string& layer, SizeBudget& budget) {
  if (monotone && domain.max - domain.min + 1 > kUntrimmedTableEntries) domain = trim_constant_ends(domain, f);
  const int64_t entries = domain.max - domain.min + 1;
  FHENN_CHECK(entries <= kMaxTableEntries, layer, ": a lookup table would need ", entries,
              " entries; lower the weight or activation bits, prune, or set rounding_threshold_bits");
  budget.charge(static_cast<uint64_t>(entries));
  ir::LookupTable table{domain.min, {}};
  table.values.reserve(static_cast<size_t>(entries));
  for (int64_t x = domain.min; x <= domain.max; ++x) table.values.push_back(f(x));
  return table;
}

}  // namespace fhenn::compiler
