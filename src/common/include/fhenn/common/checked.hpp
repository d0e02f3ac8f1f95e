// Overflow-checked arithmetic for counts and sizes that come from files: a wrap is an error, never a small number.
#pragma once

#include <cstdint>
#include <limits>
#include <utility>
#include <string>
#include <string_view>

#include "fhenn/common/error.hpp"

namespace fhenn {

// a * b, or fhenn::Error naming `what` ("encrypted results 'r.enc': samples x width") when it does not fit in
// 64 bits. Use it for every product of counts read from outside before comparing or allocating with it.
inline uint64_t checked_mul(uint64_t a, uint64_t b, std::string_view what) {
  uint64_t product = 0;
  FHENN_CHECK(!__builtin_mul_overflow(a, b, &product), what, " is corrupted: ", a, " x ", b,
              " overflows 64 bits");
  return product;
}

// a + b, or fhenn::Error naming `what` when it does not fit in 64 bits.
inline uint64_t checked_add(uint64_t a, uint64_t b, std::string_view what) {
  uint64_t sum = 0;
  FHENN_CHECK(!__builtin_add_overflow(a, b, &sum), what, " is corrupted: ", a, " + ", b, " overflows 64 bits");
  return sum;
}

// A running total of elements (or bytes) that a loader is about to allocate, checked against one budget for the
// whole artifact: a file of a few kilobytes can never make its reader allocate gigabytes.
class SizeBudget {
 public:
  SizeBudget(uint64_t limit, std::string what) : limit_(limit), what_(std::move(what)) {}
  // Adds `amount`; throws fhenn::Error when the total passes the limit.
  void charge(uint64_t amount) {
    used_ = checked_add(used_, amount, what_);
    FHENN_CHECK(used_ <= limit_, what_, " is too large or corrupted: it would need ", used_, " elements where at most ",
                limit_, " are allowed");
  }
  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
  std::string what_;
};

}  // namespace fhenn
