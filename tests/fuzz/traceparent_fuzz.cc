// Fuzz target for ParseTraceparent and TraceContextPropagator::Extract.
//
// Properties checked on every input:
// - an accepted traceparent has valid ids, re-formats (version 00) to text
//   that parses back to the same ids and the flags' version-00 bits;
// - a version-00 input whose flags use only those bits re-formats to itself;
// - the propagator agrees with the bare parser and, on rejection, leaves the
//   context untouched.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/w3c_propagators.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tracebridge;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  const bool accepted = ParseTraceparent(input, &trace_id, &span_id, &flags);

  if (accepted) {
    Check(trace_id.IsValid() && span_id.IsValid());
    char text[kTraceparentSize];
    FormatTraceparent(SpanContext(trace_id, span_id, flags, /*is_remote=*/true), text);
    TraceId trace_id2;
    SpanId span_id2;
    TraceFlags flags2;
    Check(ParseTraceparent(absl::string_view(text, sizeof(text)), &trace_id2, &span_id2, &flags2));
    Check(trace_id2 == trace_id && span_id2 == span_id);
    Check(flags2.bits() == (flags.bits() & (TraceFlags::kSampled | TraceFlags::kRandom)));
    if (input.size() == kTraceparentSize && input.substr(0, 2) == "00" && flags == flags2) {
      Check(absl::string_view(text, sizeof(text)) == input);
    }
  }

  // The same input through the propagator, also with a tracestate.
  VectorCarrier carrier;
  carrier.Add("traceparent", std::string(input));
  carrier.Add("tracestate", std::string(input));
  PropagatedContext context;
  context.baggage = Baggage().Set("keep", "1");
  const PropagatedContext before = context;
  TraceContextPropagator().Extract(carrier, &context);
  Check(context.baggage == before.baggage);
  if (accepted) {
    Check(context.span_context.IsRemote());
    Check(context.span_context.trace_id() == trace_id);
    Check(context.span_context.span_id() == span_id);
    Check(context.span_context.trace_flags() == flags);
  } else {
    Check(context.span_context == before.span_context);
  }
  return 0;
}
