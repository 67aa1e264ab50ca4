// Fuzzes X-Trace-ID / X-Span-ID parsing. The input up to the first '\n' is
// the trace id value, the rest the span id value. Every accepted pair must
// re-format to lowercase values that parse to the same context; a rejected
// pair must leave the output untouched.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/propagation/xtrace_propagator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tracebridge::SpanContext;
  using tracebridge::XTracePropagator;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const absl::string_view trace_id = input.substr(0, newline);
  const absl::string_view span_id =
      newline == absl::string_view::npos ? absl::string_view() : input.substr(newline + 1);
  const bool sampled = size % 2 == 0;

  SpanContext parsed = tracebridge::FuzzSentinelContext();
  if (!XTracePropagator::Parse(trace_id, span_id, sampled, &parsed)) {
    FUZZ_CHECK(parsed == tracebridge::FuzzSentinelContext());
    return 0;
  }
  FUZZ_CHECK(parsed.IsValid());
  FUZZ_CHECK(parsed.IsRemote());
  FUZZ_CHECK(parsed.IsSampled() == sampled);
  XTracePropagator::Formatted formatted;
  FUZZ_CHECK(XTracePropagator::Format(parsed, &formatted));
  for (char c : formatted.trace_id) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  SpanContext again;
  FUZZ_CHECK(XTracePropagator::Parse(
      absl::string_view(formatted.trace_id, sizeof(formatted.trace_id)),
      absl::string_view(formatted.span_id, sizeof(formatted.span_id)), sampled, &again));
  FUZZ_CHECK(again == parsed);
  return 0;
}
