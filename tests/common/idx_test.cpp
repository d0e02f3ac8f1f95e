// Tests of the gzip and IDX readers: round trips, every malformed header and stream refused with its reason
// (no allocation from a crafted size), and Debian's Fashion-MNIST test set read as its documentation describes.
#include "fhenn/common/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <functional>

#include "fhenn/common/error.hpp"
#include "fhenn/common/gzip.hpp"
#include "test_support.hpp"

namespace fhenn {
namespace {

using testing::expect_error_containing;

std::vector<uint8_t> gzip(const std::vector<uint8_t>& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&z, data.size()) + 32);
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::vector<uint8_t> idx(std::vector<uint32_t> dims, size_t data_bytes, uint8_t type = 0x08) {
  std::vector<uint8_t> bytes = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<uint8_t>(d >> shift));
  }
  for (size_t k = 0; k < data_bytes; ++k) bytes.push_back(static_cast<uint8_t>(k * 7));
  return bytes;
}

TEST(Gzip, RoundTripsAndRefusesTruncatedCorruptedAndOversizedStreams) {
  std::vector<uint8_t> data(3 << 20);  // more than one output chunk
  for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<uint8_t>((k * k) >> 7);
  const auto packed = gzip(data);
  EXPECT_EQ(gunzip(packed, data.size(), "data.gz"), data);
  expect_error_containing([&] { gunzip(packed, data.size() - 1, "data.gz"); }, "decompresses to more than");
  const std::vector<uint8_t> truncated(packed.begin(), packed.end() - 20);
  expect_error_containing([&] { gunzip(truncated, data.size(), "data.gz"); }, "truncated");
  std::vector<uint8_t> corrupted = packed;
  corrupted[packed.size() / 2] ^= 0x5a;
  EXPECT_THROW(gunzip(corrupted, data.size(), "data.gz"), Error);
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  expect_error_containing([&] { gunzip(text, 100, "plain.gz"); }, "plain.gz is not valid gzip data");
}

TEST(Idx, ParsesArraysAndRefusesEveryMalformedHeader) {
  const IdxArray a = parse_idx(idx({2, 3}, 6), "a.idx");
  EXPECT_EQ(a.dims, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<uint8_t>{0, 7, 14, 21, 28, 35}));
  expect_error_containing([] { parse_idx(std::vector<uint8_t>{0, 0}, "x"); }, "fewer than its header");
  expect_error_containing([] { parse_idx(std::vector<uint8_t>{1, 0, 8, 1, 0, 0, 0, 1, 5}, "x"); }, "magic number");
  expect_error_containing([] { parse_idx(idx({2}, 4, 0x0B), "x"); }, "type 0x0b; fhenn reads unsigned-byte");
  expect_error_containing([] { parse_idx(idx({}, 0), "x"); }, "declares 0 dimensions");
  expect_error_containing([] { parse_idx(idx({1, 1, 1, 1, 1}, 1), "x"); }, "declares 5 dimensions");
  std::vector<uint8_t> short_header = idx({4, 4}, 0);
  short_header.resize(9);
  expect_error_containing([&] { parse_idx(short_header, "x"); }, "truncated: its 2 dimensions need a 12-byte header");
  // A crafted size: 2^32 - 1 squared values declared over 10 bytes is refused before anything is allocated.
  expect_error_containing(
      [] {
        parse_idx(idx({0xFFFFFFFFu, 0xFFFFFFFFu}, 10), "x");
      },
      "declares more values than its 10 data bytes hold");
  expect_error_containing([] { parse_idx(idx({2, 2}, 5), "x"); }, "declares 4 values but holds 5 data bytes");
  expect_error_containing([] { parse_idx(idx({0}, 0), "x"); }, "dimension 0 is 0");
  expect_error_containing([] { read_idx_file("/nonexistent/labels-idx1-ubyte.gz"); }, "cannot open");
}

TEST(Idx, ReadsDebiansFashionMnistTestSet) {
  // scripts/install-deps installs dataset-fashion-mnist; its test set holds 1000 images of each of 10 classes.
  const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(std::filesystem::exists(dir)) << "install dataset-fashion-mnist (scripts/install-deps)";
  const IdxArray labels = read_idx_file(dir / "t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(labels.dims, (std::vector<size_t>{10000}));
  std::array<int, 10> per_class{};
  for (uint8_t label : labels.values) {
    ASSERT_LT(label, 10);
    ++per_class[label];
  }
  for (int count : per_class) EXPECT_EQ(count, 1000);
  const IdxArray images = read_idx_file(dir / "t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(images.dims, (std::vector<size_t>{10000, 28, 28}));
  EXPECT_EQ(images.values.size(), size_t{10000} * 28 * 28);
}

}  // namespace
}  // namespace fhenn
