// File: tracebridge/core/propagation/grpc_trace_bin_propagator.h
//
// `GrpcTraceBinPropagator`: the OpenCensus binary trace context that gRPC's
// census integration sends in `grpc-trace-bin` metadata; OTEL_PROPAGATORS
// name "grpc-trace-bin". The carrier value is raw bytes: gRPC base64-decodes
// `-bin` metadata before the application sees it.
//
// Not usable on tracebridge's gRPC door: gRPC C++ parses `grpc-trace-bin`
// into its own metadata slot and never passes it to interceptors or
// handlers, so `TelemetryBuilder::Build()` rejects the format. The class
// remains the codec for carriers that do see the header.
//
// Layout (OpenCensus BinaryEncoding, version 0), 29 bytes as formatted:
//
//   byte  0      version             0
//   byte  1      field id            0 (trace id)
//   bytes 2-17   trace id            16 bytes
//   byte  18     field id            1 (span id)
//   bytes 19-26  span id             8 bytes
//   byte  27     field id            2 (trace options)
//   byte  28     trace options       bit 0 = sampled
//
// Parsing follows the spec's deserialization rules: the version must be 0;
// fields come in id order; reading stops at the end of input or at the first
// unknown field id, whose bytes are ignored. Trace id and span id are
// required (without them there is no valid context); trace options are
// optional and default to "not sampled", so a 27-byte value is accepted. A
// known field cut short is malformed. Only bit 0 of trace options is read:
// the other bits are undefined in OpenCensus and must not turn into W3C flags
// such as `random`. Debug is not representable and is dropped on inject.
//
// Thread safety: immutable; share freely.
//
// Example:
//
//   tracebridge::GrpcTraceBinPropagator grpc_trace_bin;
//   uint8_t bytes[tracebridge::GrpcTraceBinPropagator::kSize];
//   tracebridge::GrpcTraceBinPropagator::Format(span_context, bytes);
//   tracebridge::SpanContext parsed;
//   tracebridge::GrpcTraceBinPropagator::Parse(
//       absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)), &parsed);

#ifndef TRACEBRIDGE_CORE_PROPAGATION_GRPC_TRACE_BIN_PROPAGATOR_H_
#define TRACEBRIDGE_CORE_PROPAGATION_GRPC_TRACE_BIN_PROPAGATOR_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

class GrpcTraceBinPropagator final : public Propagator {
 public:
  // The formatted size: version, three field ids, 16 + 8 + 1 field bytes.
  static constexpr size_t kSize = 29;

  GrpcTraceBinPropagator() noexcept = default;

  // "grpc-trace-bin".
  absl::string_view Name() const noexcept override;

  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // "grpc-trace-bin".
  absl::Span<const absl::string_view> Fields() const noexcept override;

  // Parses the binary value as described above. On success sets `*out`
  // (remote) and returns true; otherwise returns false and leaves `*out`
  // untouched. Reads at most 29 bytes; allocation-free.
  static bool Parse(absl::string_view bytes, SpanContext* out) noexcept;

  // Writes the 29 bytes for a valid `context` and returns true; returns false
  // (writing nothing) for an invalid one.
  static bool Format(const SpanContext& context, uint8_t (&out)[kSize]) noexcept;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_GRPC_TRACE_BIN_PROPAGATOR_H_
