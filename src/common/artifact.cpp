// Sealed binary artifacts (see artifact.hpp).
#include "fhenn/common/artifact.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "fhenn/common/bytes.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn {
namespace {

constexpr std::string_view kMagic = "FHENN";

}  // namespace

std::array<uint8_t, 32> sha256(std::span<const uint8_t> data) {
  std::array<uint8_t, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 || length != 32) {
    fail("OpenSSL SHA-256 failed");
  }
  return digest;
}

std::string to_hex(std::span<const uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(data.size() * 2);
  for (uint8_t b : data) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::string sha256_hex(std::span<const uint8_t> data) {
  const auto digest = sha256(data);
  return to_hex(digest);
}

std::vector<uint8_t> seal_artifact(std::string_view kind, uint32_t format_version, std::span<const uint8_t> payload) {
  FHENN_CHECK(!kind.empty() && kind.size() < 64, "artifact kind must have 1..63 characters");
  ByteWriter out;
  out.raw({reinterpret_cast<const uint8_t*>(kMagic.data()), kMagic.size()});
  out.u8(static_cast<uint8_t>(kind.size()));
  out.raw({reinterpret_cast<const uint8_t*>(kind.data()), kind.size()});
  out.u32(format_version);
  out.u64(payload.size());
  out.raw(payload);
  const auto digest = sha256(out.bytes());
  out.raw(digest);
  return out.take();
}

std::string peek_artifact_kind(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMagic.size() + 1 ||
      std::string_view(reinterpret_cast<const char*>(bytes.data()), kMagic.size()) != kMagic) {
    return {};
  }
  const size_t length = bytes[kMagic.size()];
  if (bytes.size() < kMagic.size() + 1 + length) return {};
  return std::string(reinterpret_cast<const char*>(bytes.data()) + kMagic.size() + 1, length);
}

std::vector<uint8_t> open_artifact(std::span<const uint8_t> bytes, std::string_view kind, uint32_t format_version,
                                   std::string_view what) {
  const std::string name(what);
  ByteReader in(bytes, name);
  FHENN_CHECK(bytes.size() >= kMagic.size() &&
                  std::string_view(reinterpret_cast<const char*>(bytes.data()), kMagic.size()) == kMagic,
              name, " is not an fhenn file (bad magic): check the path");
  in.raw(kMagic.size());
  const size_t kind_length = in.u8();
  const auto kind_bytes = in.raw(kind_length);
  const std::string found_kind(reinterpret_cast<const char*>(kind_bytes.data()), kind_bytes.size());
  FHENN_CHECK(found_kind == kind, name, " holds a '", found_kind, "', not a '", kind,
              "': pass the file that matches this argument");
  const uint32_t found_version = in.u32();
  FHENN_CHECK(found_version == format_version, name, " has format version ", found_version,
              "; this fhenn reads version ", format_version, ": regenerate it with this version of fhenn");
  const uint64_t payload_size = in.u64();
  FHENN_CHECK(payload_size <= in.remaining() && in.remaining() - payload_size == 32, name,
              " is truncated or has trailing bytes (payload of ", payload_size, " bytes, ", in.remaining(),
              " bytes left including the 32-byte checksum): the file is incomplete or corrupted");
  const auto payload = in.raw(payload_size);
  const auto stored = in.raw(32);
  const auto computed = sha256(bytes.first(bytes.size() - 32));
  FHENN_CHECK(std::equal(stored.begin(), stored.end(), computed.begin()), name,
              " is corrupted (checksum mismatch): regenerate or copy it again");
  return {payload.begin(), payload.end()};
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view what, uint64_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  FHENN_CHECK(file.good(), "cannot open ", what, " '", path.string(), "': check that the file exists and is readable");
  std::error_code error;
  if (std::filesystem::is_regular_file(path, error)) {
    const uint64_t size = std::filesystem::file_size(path, error);
    if (!error && size > max_bytes) {
      std::vector<char> head(128);
      file.read(head.data(), static_cast<std::streamsize>(head.size()));
      const std::string kind = peek_artifact_kind(
          {reinterpret_cast<const uint8_t*>(head.data()), static_cast<size_t>(file.gcount())});
      fail(what, " '", path.string(), "' has ", size, " bytes, more than the ", max_bytes, " such a file can have",
           kind.empty() ? std::string() : concat(" (it holds a '", kind, "')"), ": check the path");
    }
  }
  std::vector<uint8_t> bytes;
  std::vector<char> chunk(size_t{1} << 20);
  while (file) {
    file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<size_t>(file.gcount());
    FHENN_CHECK(bytes.size() + got <= max_bytes, what, " '", path.string(), "' is larger than the ", max_bytes,
                " bytes such a file can have: check the path");
    bytes.insert(bytes.end(), chunk.data(), chunk.data() + got);
  }
  FHENN_CHECK(!file.bad(), "error while reading ", what, " '", path.string(), "'");
  return bytes;
}

void write_file_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes, FileAccess access) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  if (access == FileAccess::owner_only) {
    // Create (or narrow) the file as 0600 before a single byte is written, so the secret is never readable by others.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FHENN_CHECK(fd >= 0, "cannot write '", path.string(), "': ", std::strerror(errno));
    const bool narrowed = ::fchmod(fd, 0600) == 0;
    ::close(fd);
    FHENN_CHECK(narrowed, "cannot restrict '", path.string(), "' to its owner: ", std::strerror(errno));
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  FHENN_CHECK(file.good(), "cannot write '", path.string(), "': check the directory and permissions");
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  FHENN_CHECK(file.good(), "error while writing '", path.string(), "' (disk full?)");
}

}  // namespace fhenn
