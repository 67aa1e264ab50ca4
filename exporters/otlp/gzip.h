// File: tracebridge/exporters/otlp/gzip.h
//
// Gzip (RFC 1952) compression of one request body, with the system zlib: what
// OTLP calls "gzip" compression, for transports that do not compress
// themselves (OTLP/HTTP; gRPC compresses on its own).
//
// Example:
//
//   std::string compressed;
//   absl::Status status = tracebridge::GzipCompress(body, &compressed);

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_GZIP_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_GZIP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tracebridge {

// Replaces `*out` with the gzip member holding `data`. Internal when zlib
// fails (out of memory), InvalidArgument for input over 1 GiB.
absl::Status GzipCompress(absl::string_view data, std::string* out);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_GZIP_H_
