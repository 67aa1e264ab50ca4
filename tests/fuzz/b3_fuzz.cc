// Fuzzes B3 parsing. The whole input is a single `b3` value; split on '\n'
// it is also the five multi-header values (trace id, span id, parent span
// id, sampled, flags; missing lines are absent headers). Every accepted
// input must re-format (both encodings) to something that parses to the
// same context, and a rejected one must leave the output untouched.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/propagation/b3_propagator.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {
namespace {

// Re-formats `parsed` both ways and checks both parse back to it.
void CheckRoundTrip(const SpanContext& parsed) {
  FUZZ_CHECK(parsed.IsValid());
  FUZZ_CHECK(parsed.IsRemote());
  FUZZ_CHECK(!parsed.IsDebug() || parsed.IsSampled());

  char single[B3Propagator::kSingleHeaderSize];
  const size_t size = B3Propagator::FormatSingle(parsed, single);
  FUZZ_CHECK(size == sizeof(single));
  SpanContext again;
  FUZZ_CHECK(B3Propagator::ParseSingle(absl::string_view(single, size), &again));
  FUZZ_CHECK(again == parsed);

  B3Propagator::FormattedMulti multi;
  FUZZ_CHECK(B3Propagator::FormatMulti(parsed, &multi));
  B3Propagator::MultiHeaders headers;
  headers.trace_id = absl::string_view(multi.trace_id, sizeof(multi.trace_id));
  headers.span_id = absl::string_view(multi.span_id, sizeof(multi.span_id));
  if (multi.sampling_key == "x-b3-flags") {
    headers.flags = multi.sampling_value;
  } else {
    headers.sampled = multi.sampling_value;
  }
  SpanContext from_multi;
  FUZZ_CHECK(B3Propagator::ParseMulti(headers, &from_multi));
  FUZZ_CHECK(from_multi == parsed);
}

void FuzzSingle(absl::string_view input) {
  SpanContext parsed = FuzzSentinelContext();
  if (B3Propagator::ParseSingle(input, &parsed)) {
    CheckRoundTrip(parsed);
  } else {
    FUZZ_CHECK(parsed == FuzzSentinelContext());
  }
}

void FuzzMulti(absl::string_view input) {
  absl::optional<absl::string_view> values[5];
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= input.size() && count < 5; ++i) {
    if (i == input.size() || input[i] == '\n') {
      values[count++] = input.substr(start, i - start);
      start = i + 1;
    }
  }
  B3Propagator::MultiHeaders headers;
  headers.trace_id = values[0];
  headers.span_id = values[1];
  headers.parent_span_id = values[2];
  headers.sampled = values[3];
  headers.flags = values[4];
  SpanContext parsed = FuzzSentinelContext();
  const bool accepted = B3Propagator::ParseMulti(headers, &parsed);
  if (accepted) {
    CheckRoundTrip(parsed);
  } else {
    FUZZ_CHECK(parsed == FuzzSentinelContext());
  }

  // The same values through a carrier: Extract must agree with ParseMulti
  // when there is no single header.
  static constexpr absl::string_view kKeys[5] = {"x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
                                                 "x-b3-sampled", "x-b3-flags"};
  VectorCarrier carrier;
  for (size_t i = 0; i < count; ++i) carrier.Add(kKeys[i], *values[i]);
  PropagatedContext context;
  context.span_context = FuzzSentinelContext();
  B3Propagator().Extract(carrier, &context);
  FUZZ_CHECK(context.span_context == parsed);
}

}  // namespace
}  // namespace tracebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  tracebridge::FuzzSingle(input);
  tracebridge::FuzzMulti(input);
  return 0;
}
