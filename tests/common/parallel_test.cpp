// Tests of the parallel loop: every index once, exceptions propagated.
#include "fhenn/common/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace fhenn {
namespace {

TEST(ParallelFor, VisitsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    std::vector<std::atomic<int>> visits(1000);
    parallel_for(visits.size(), threads, [&](size_t i, int worker) {
      EXPECT_LT(worker, threads);
      visits[i].fetch_add(1);
    });
    for (const auto& v : visits) EXPECT_EQ(v.load(), 1);
  }
}

TEST(ParallelFor, RethrowsTheFirstException) {
  EXPECT_THROW(parallel_for(100, 2,
                            [](size_t i, int) {
                              if (i == 37) throw std::runtime_error("boom");
                            }),
               std::runtime_error);
}

}  // namespace
}  // namespace fhenn
