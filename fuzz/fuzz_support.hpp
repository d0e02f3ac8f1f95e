// The loader fuzz targets' shared driver: the first input byte picks how the rest reaches the loader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn::fuzz {

// A sealed artifact kind (common/artifact.hpp) that a target's payload mode wraps its data in.
struct SealedKind {
  std::string_view kind;
  uint32_t version = 0;
};

// How the bytes after the selector byte reach the loader (selector & 3).
enum class Mode : uint8_t {
  whole_file = 0,  // as they are: exercises the seal checks
  resealed = 1,    // with every embedded artifact's checksum recomputed: a mutated real file passes its seals
  payload = 2,     // sealed as kinds[variant % kinds.size()] (inner seals recomputed): reaches the payload parser
};

// A decoded fuzz input: the bytes to load and the variant (selector >> 2) the target may use to choose what the
// loader expects (e.g. inputs or results).
struct Input {
  std::vector<uint8_t> bytes;
  unsigned variant = 0;
};

inline constexpr std::string_view kMagic = "FHENN";
inline constexpr size_t kChecksumBytes = 32;

// Recomputes the SHA-256 of every sealed artifact inside `bytes` whose header and payload fit, the innermost
// (the last to start) first, so that a container's checksum covers its already repaired contents.
inline void reseal_embedded(std::vector<uint8_t>& bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<size_t> starts;
  for (size_t at = text.find(kMagic); at != std::string_view::npos; at = text.find(kMagic, at + 1)) {
    starts.push_back(at);
  }
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
    const size_t start = *it;
    const size_t kind_at = start + kMagic.size();
    if (kind_at >= bytes.size()) continue;
    const size_t size_at = kind_at + 1 + bytes[kind_at] + 4;
    if (size_at + 8 > bytes.size()) continue;
    uint64_t payload_size = 0;
    std::memcpy(&payload_size, bytes.data() + size_at, 8);
    const size_t room = bytes.size() - size_at - 8;
    if (payload_size > room || room - payload_size < kChecksumBytes) continue;
    const size_t sealed_end = size_at + 8 + payload_size;
    const auto digest = sha256(std::span<const uint8_t>(bytes).subspan(start, sealed_end - start));
    std::memcpy(bytes.data() + sealed_end, digest.data(), digest.size());
  }
}

inline Input decode_input(const uint8_t* data, size_t size, std::span<const SealedKind> kinds) {
  if (size == 0) return {};
  const uint8_t selector = data[0];
  Input input{std::vector<uint8_t>(data + 1, data + size), static_cast<unsigned>(selector >> 2)};
  const auto mode = static_cast<Mode>(selector & 3);
  if (mode == Mode::whole_file) return input;
  reseal_embedded(input.bytes);
  if (mode == Mode::resealed || kinds.empty()) return input;
  const SealedKind& sealed = kinds[input.variant % kinds.size()];
  input.bytes = seal_artifact(sealed.kind, sealed.version, input.bytes);
  return input;
}

// The fuzz input that decode_input turns back into `bytes` (a corpus seed).
inline std::vector<uint8_t> encode_input(Mode mode, unsigned variant, std::span<const uint8_t> bytes) {
  std::vector<uint8_t> out{static_cast<uint8_t>((variant << 2) | static_cast<unsigned>(mode))};
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

// Runs `load` on the decoded input. fhenn::Error is the loader's clean rejection; anything else (another
// exception, a crash, a sanitizer report, an allocation above libFuzzer's -malloc_limit_mb) is a finding.
template <typename Load>
int run_loader(const uint8_t* data, size_t size, std::span<const SealedKind> kinds, Load&& load) {
  const Input input = decode_input(data, size, kinds);
  try {
    load(std::span<const uint8_t>(input.bytes), input.variant);
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace fhenn::fuzz
