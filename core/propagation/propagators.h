// File: tracebridge/core/propagation/propagators.h
//
// `MakePropagators`: builds the propagator for an `OTEL_PROPAGATORS`-style
// list, the one switch a deployment flips to speak its callers' formats.
//
// Names (ASCII case-insensitive, surrounding whitespace ignored, empty
// entries skipped, repeats ignored after the first):
//   "tracecontext"   W3C traceparent/tracestate
//   "baggage"        W3C baggage
//   "b3"             B3, single header on inject (reads single and multi)
//   "b3multi"        B3, multi headers on inject (reads single and multi)
//   "jaeger"         uber-trace-id
//   "grpc-trace-bin" OpenCensus binary metadata (built here for other
//                    transports; `TelemetryBuilder::Build()` rejects it, since
//                    gRPC C++ never hands this header to interceptors)
//   "xtrace"         legacy X-Trace-ID / X-Span-ID (extracted contexts sampled)
//   "none"           no propagation; must be the only entry
// The result is always a `CompositePropagator` over the listed formats in
// order, so its extract rules (first valid context wins) apply even to a
// one-entry list.
//
// Errors (`InvalidArgument`, naming the offending entry): an unknown name,
// "none" combined with other names, a list with no names at all.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<tracebridge::Propagator>> propagator =
//       tracebridge::MakePropagators("b3,xtrace");
//   if (!propagator.ok()) return propagator.status();

#ifndef TRACEBRIDGE_CORE_PROPAGATION_PROPAGATORS_H_
#define TRACEBRIDGE_CORE_PROPAGATION_PROPAGATORS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {

// Builds the propagator for the comma-separated `list` (see above).
absl::StatusOr<std::unique_ptr<Propagator>> MakePropagators(absl::string_view list);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_PROPAGATORS_H_
