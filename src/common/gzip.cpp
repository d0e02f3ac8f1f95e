// gzip decompression with zlib's inflate, bounded in output.
#include "fhenn/common/gzip.hpp"

#include <zlib.h>

#include <algorithm>

#include "fhenn/common/artifact.hpp"
#include "fhenn/common/error.hpp"

namespace fhenn {
namespace {

// One inflate stream, ended on every path out.
class Inflater {
 public:
  explicit Inflater(const std::string& what) {
    // 16 + MAX_WBITS: a gzip header and trailer (checked CRC-32 and length), not a raw zlib stream.
    FHENN_CHECK(inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK, what, ": zlib could not start decompressing");
  }
  ~Inflater() { inflateEnd(&stream_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  z_stream& stream() { return stream_; }

 private:
  z_stream stream_{};
};

}  // namespace

std::vector<uint8_t> gunzip(std::span<const uint8_t> compressed, uint64_t max_bytes, const std::string& what) {
  FHENN_CHECK(compressed.size() <= UINT32_MAX, what, " has more than 4 GiB of compressed data");
  Inflater inflater(what);
  z_stream& z = inflater.stream();
  z.next_in = const_cast<Bytef*>(compressed.data());  // zlib's API is not const; it only reads the input
  z.avail_in = static_cast<uInt>(compressed.size());
  std::vector<uint8_t> out;
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  while (true) {
    // Room for the next chunk of output, never past max_bytes.
    const size_t used = out.size();
    FHENN_CHECK(used < max_bytes, what, " decompresses to more than ", max_bytes,
                " bytes: it is not a file this reader takes, or it is corrupted");
    out.resize(used + static_cast<size_t>(std::min(kChunk, max_bytes - used)));
    z.next_out = out.data() + used;
    z.avail_out = static_cast<uInt>(out.size() - used);
    const int status = inflate(&z, Z_NO_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (status == Z_STREAM_END) return out;
    FHENN_CHECK(status == Z_OK || status == Z_BUF_ERROR, what, " is not valid gzip data (",
                z.msg != nullptr ? z.msg : "corrupted", "): fetch the file again");
    // Output room left but no input: the stream stopped before its end.
    FHENN_CHECK(z.avail_in > 0 || z.avail_out == 0, what,
                " is truncated: its gzip stream ends early; fetch the file again");
  }
}

std::vector<uint8_t> read_maybe_gzip_file(const std::filesystem::path& path, uint64_t max_bytes) {
  std::vector<uint8_t> bytes = read_file_bytes(path, "the data file", max_bytes);
  if (path.extension() != ".gz") return bytes;
  return gunzip(bytes, max_bytes, path.string());
}

}  // namespace fhenn
