// Little-endian byte writer and bounds-checked reader for fhenn's binary artifacts.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fhenn/common/checked.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn {

// Appends fixed-width little-endian values (x86-64 and aarch64 are both little-endian hosts).
class ByteWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u32(uint32_t v) { pod(v); }
  void u64(uint64_t v) { pod(v); }
  void i64(int64_t v) { pod(v); }
  void f64(double v) { pod(v); }
  void str(std::string_view s) {
    u64(s.size());
    append(s.data(), s.size());
  }
  void raw(std::span<const uint8_t> data) { append(data.data(), data.size()); }
  // A count followed by the elements' bytes.
  template <typename T>
  void vec(std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    u64(values.size());
    append(values.data(), values.size_bytes());
  }
  template <typename T>
  void vec(const std::vector<T>& values) {
    vec(std::span<const T>(values));
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  template <typename T>
  void pod(T v) {
    append(&v, sizeof(T));
  }
  // resize + memcpy (vector::insert of a few bytes trips GCC 12's -Wstringop-overflow false positive at -O3).
  void append(const void* data, size_t size) {
    if (size == 0) return;
    const size_t old_size = bytes_.size();
    bytes_.resize(old_size + size);
    std::memcpy(bytes_.data() + old_size, data, size);
  }
  std::vector<uint8_t> bytes_;
};

// Reads what ByteWriter wrote; every read checks the remaining length and throws fhenn::Error
// naming the artifact (`what`) when the data is truncated or a count is implausible.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

  uint8_t u8() { return pod<uint8_t>(); }
  uint32_t u32() { return pod<uint32_t>(); }
  uint64_t u64() { return pod<uint64_t>(); }
  int64_t i64() { return pod<int64_t>(); }
  double f64() { return pod<double>(); }
  std::string str(size_t max_length = 1 << 20) {
    const uint64_t n = count(max_length, 1);
    std::string s(reinterpret_cast<const char*>(data_.data() + offset_), n);
    offset_ += n;
    return s;
  }
  std::span<const uint8_t> raw(size_t n) {
    need(n);
    auto s = data_.subspan(offset_, n);
    offset_ += n;
    return s;
  }
  template <typename T>
  std::vector<T> vec(size_t max_count) {
    static_assert(std::is_trivially_copyable_v<T>);
    const uint64_t n = count(max_count, sizeof(T));
    std::vector<T> out(n);
    if (n != 0) std::memcpy(out.data(), data_.data() + offset_, n * sizeof(T));
    offset_ += n * sizeof(T);
    return out;
  }
  // The same, with the count also charged to `budget` (one artifact's total) before anything is allocated.
  template <typename T>
  std::vector<T> vec(size_t max_count, SizeBudget& budget) {
    static_assert(std::is_trivially_copyable_v<T>);
    const uint64_t n = count(max_count, sizeof(T));
    budget.charge(n);
    std::vector<T> out(n);
    if (n != 0) std::memcpy(out.data(), data_.data() + offset_, n * sizeof(T));
    offset_ += n * sizeof(T);
    return out;
  }
  // A count, checked against a limit and against the bytes left (elements of `element_size` bytes each).
  uint64_t count(uint64_t max_count, size_t element_size) {
    const uint64_t n = u64();
    FHENN_CHECK(n <= max_count, what_, " is corrupted: a length field says ", n, " where at most ", max_count,
                " is allowed");
    need(checked_mul(n, element_size, what_));
    return n;
  }
  size_t remaining() const { return data_.size() - offset_; }
  void expect_end() const {
    FHENN_CHECK(remaining() == 0, what_, " has ", remaining(), " unexpected trailing bytes: the file is corrupted");
  }
  const std::string& what() const { return what_; }

 private:
  void need(uint64_t n) const {
    FHENN_CHECK(n <= remaining(), what_, " is truncated: ", n, " more bytes needed at offset ", offset_, ", only ",
                remaining(), " left; the file is incomplete or corrupted");
  }
  template <typename T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return v;
  }
  std::span<const uint8_t> data_;
  std::string what_;
  size_t offset_ = 0;
};

}  // namespace fhenn
