// File: tracebridge/core/propagation/injection_budget.h
//
// Injection within a byte budget, so tracing never makes the next hop refuse
// a call. gRPC servers refuse request metadata over 8 KiB by default, and
// many HTTP servers refuse headers of that size (Pistache's default is 4096
// bytes for the whole request); W3C Baggage alone may legally be 8192 bytes.
// `InjectWithinBudget` writes the trace context in every configured format
// and then as many baggage members as still fit.
//
// What counts: every field the propagators write costs its name's and its
// value's bytes plus 32, the per-field overhead HTTP/2 header lists carry
// (RFC 7541, section 4.1), by which gRPC measures its metadata limit.
//
// The rule:
// - Trace-context fields are always written; they are small and bounded by
//   their formats (every built-in format at once, with a full 512-byte
//   `tracestate`, costs 1146 bytes).
// - When everything fits, everything is written, unchanged.
// - Otherwise baggage members are taken in order while the `baggage` header
//   with them still fits in what the trace context left; a member that does
//   not fit is dropped whole, and a later, smaller one may still be kept. A
//   propagator that writes baggage in some other shape, and would still go
//   over, sends no baggage at all.
// - The number of members left out is returned, so the caller can count it
//   and record it on its span: nothing is dropped silently.
//
// Cost: with empty baggage, one ordinary `Inject` (nothing measured, nothing
// allocated beyond what the propagators allocate). With baggage, one
// measuring pass more; with baggage over the budget, a third pass and the
// trimmed copy.
//
// Example:
//
//   size_t dropped = tracebridge::InjectWithinBudget(
//       propagator, outgoing, tracebridge::kDefaultInjectionBudget, &writer);
//   if (dropped > 0) span.SetAttribute("tracebridge.baggage.dropped_members", dropped);

#ifndef TRACEBRIDGE_CORE_PROPAGATION_INJECTION_BUDGET_H_
#define TRACEBRIDGE_CORE_PROPAGATION_INJECTION_BUDGET_H_

#include <cstddef>

#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

// The default budget: 2048 bytes. A quarter of gRPC's default 8 KiB
// metadata limit and half of Pistache's default 4096-byte request limit,
// leaving the rest to the request line or pseudo-headers, the transport's
// own headers and the application's metadata, so that a hop at its defaults
// never refuses a call for what tracing added.
inline constexpr size_t kDefaultInjectionBudget = 2048;

// What one field costs beyond its name and value (RFC 7541, section 4.1).
inline constexpr size_t kInjectedFieldOverhead = 32;

// The bytes `propagator` would write for `context`, as the budget counts
// them. Writes nothing anywhere.
size_t InjectedSize(const Propagator& propagator, const PropagatedContext& context);

// The members of `baggage`, in order, whose `baggage` header field (name,
// value and overhead) fits in `room` bytes (see the rule above).
Baggage FitBaggage(const Baggage& baggage, size_t room);

// Injects `context` into `carrier` with `propagator`, within `budget` bytes
// by the rule above. Returns the number of baggage members left out.
size_t InjectWithinBudget(const Propagator& propagator, const PropagatedContext& context,
                          size_t budget, CarrierWriter* carrier);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_INJECTION_BUDGET_H_
