#include "tracebridge/exporters/otlp/gzip.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace tracebridge {

absl::Status GzipCompress(absl::string_view data, std::string* out) {
  // zlib counts in uInt; 1 GiB keeps the bound on the output within it.
  if (data.size() > (size_t{1} << 30)) return absl::InvalidArgumentError("gzip input over 1 GiB");
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("zlib deflateInit2 failed");
  }
  out->resize(deflateBound(&stream, static_cast<uLong>(data.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(&(*out)[0]);
  stream.avail_out = static_cast<uInt>(out->size());
  // deflateBound leaves room for the whole stream, so one call finishes it.
  const int result = deflate(&stream, Z_FINISH);
  const uLong written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) {
    out->clear();
    return absl::InternalError(absl::StrCat("zlib deflate failed (", result, ")"));
  }
  out->resize(written);
  return absl::OkStatus();
}

}  // namespace tracebridge
