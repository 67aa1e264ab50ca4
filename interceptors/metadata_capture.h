// File: tracebridge/interceptors/metadata_capture.h
//
// The gRPC side of recording allow-listed metadata as span attributes
// (`rpc.grpc.request.metadata.<key>`, `rpc.grpc.response.metadata.<key>`;
// what is recorded and how: core/header_capture.h). One per call, kept by
// the interceptors: request metadata is recorded when the call starts;
// response metadata (initial and trailing, in that order, values of a key in
// both joined) is gathered as it passes and recorded when the span ends.
//
// Server side: the client's metadata, and what the server sends (its
// initial metadata, including tracebridge's `x-trace-id`, and its trailing
// metadata). Client side: what the client sends (without tracebridge's own
// propagation entries, which are added after) and the server's initial and
// trailing metadata.
//
// When neither list is configured, every method is one untaken branch.
//
// Example (what the interceptors do):
//
//   CallMetadataCapture capture(telemetry);
//   if (capture.enabled()) capture.Request(metadata, span);
//   ...
//   if (capture.enabled()) capture.Response(trailing_metadata);
//   capture.Finish(span);  // before span.End()

#ifndef TRACEBRIDGE_INTERCEPTORS_METADATA_CAPTURE_H_
#define TRACEBRIDGE_INTERCEPTORS_METADATA_CAPTURE_H_

#include <map>
#include <string>

#include <grpcpp/support/string_ref.h>

#include "absl/strings/string_view.h"
#include "tracebridge/core/header_capture.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {
namespace internal {

inline absl::string_view View(const std::string& text) { return text; }
inline absl::string_view View(const grpc::string_ref& text) {
  return absl::string_view(text.data(), text.size());
}

class CallMetadataCapture final {
 public:
  explicit CallMetadataCapture(const Telemetry& telemetry) noexcept
      : request_(&telemetry.header_capture(CaptureKind::kGrpcRequest)),
        response_(&telemetry.header_capture(CaptureKind::kGrpcResponse)),
        enabled_(!request_->empty() || !response_->empty()) {}

  bool enabled() const noexcept { return enabled_; }
  bool records_response() const noexcept { return !response_->empty(); }

  // Records the allow-listed entries of the request `metadata` on `span`.
  template <typename Map>
  void Request(const Map* metadata, Span& span) const {
    if (request_->empty() || metadata == nullptr || !span.IsRecording()) return;
    HeaderCapture::Values values;
    for (const auto& entry : *metadata)
      request_->Add(&values, View(entry.first), View(entry.second));
    request_->Apply(values, span);
  }

  // Gathers the allow-listed entries of response `metadata`.
  template <typename Map>
  void Response(const Map* metadata) {
    if (response_->empty() || metadata == nullptr) return;
    for (const auto& entry : *metadata) {
      response_->Add(&response_values_, View(entry.first), View(entry.second));
    }
  }

  // Records the response entries gathered so far on `span`.
  void Finish(Span& span) const {
    if (!response_values_.empty()) response_->Apply(response_values_, span);
  }

 private:
  const HeaderCapture* const request_;
  const HeaderCapture* const response_;
  const bool enabled_;
  HeaderCapture::Values response_values_;
};

}  // namespace internal
}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_METADATA_CAPTURE_H_
