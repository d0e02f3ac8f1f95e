// Tests of sealed artifacts: round trip, and every kind of bad input rejected with a clear error.
#include "fhenn/common/artifact.hpp"

#include <gtest/gtest.h>

#include "fhenn/common/bytes.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn {
namespace {

std::vector<uint8_t> sample_payload() {
  ByteWriter w;
  w.u32(7);
  w.str("hello");
  w.vec(std::vector<uint64_t>{1, 2, 3});
  return w.take();
}

TEST(Artifact, RoundTripReturnsThePayload) {
  const auto payload = sample_payload();
  const auto sealed = seal_artifact("test-kind", 3, payload);
  EXPECT_EQ(open_artifact(sealed, "test-kind", 3, "test file"), payload);
  EXPECT_EQ(peek_artifact_kind(sealed), "test-kind");
}

TEST(Artifact, WrongKindIsRefusedNamingBoth) {
  const auto sealed = seal_artifact("ciphertexts", 1, sample_payload());
  try {
    open_artifact(sealed, "evaluation-keys", 1, "keys.bin");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ciphertexts"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("evaluation-keys"), std::string::npos) << e.what();
  }
}

TEST(Artifact, OtherFormatVersionIsRefused) {
  const auto sealed = seal_artifact("k", 2, sample_payload());
  EXPECT_THROW(open_artifact(sealed, "k", 1, "f"), Error);
}

TEST(Artifact, EveryTruncationIsRefused) {
  const auto sealed = seal_artifact("k", 1, sample_payload());
  for (size_t n = 0; n < sealed.size(); ++n) {
    std::vector<uint8_t> cut(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(open_artifact(cut, "k", 1, "f"), Error) << "length " << n;
  }
}

TEST(Artifact, EveryFlippedByteIsDetected) {
  const auto sealed = seal_artifact("k", 1, sample_payload());
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto corrupted = sealed;
    corrupted[i] ^= 0x40;
    EXPECT_THROW(open_artifact(corrupted, "k", 1, "f"), Error) << "byte " << i;
  }
}

TEST(ByteReader, ReadsBackWhatWasWritten) {
  const auto payload = sample_payload();
  ByteReader r(payload, "payload");
  EXPECT_EQ(r.u32(), 7u);
  EXPECT_EQ(r.str(), "hello");
  EXPECT_EQ(r.vec<uint64_t>(10), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_NO_THROW(r.expect_end());
}

TEST(ByteReader, ImplausibleCountIsRefusedBeforeAllocating) {
  ByteWriter w;
  w.u64(uint64_t{1} << 60);
  const auto bytes = w.take();
  ByteReader r(bytes, "payload");
  EXPECT_THROW(r.vec<uint64_t>(uint64_t{1} << 62), Error);
}

TEST(Sha256, MatchesTheKnownDigestOfAbc) {
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace fhenn
