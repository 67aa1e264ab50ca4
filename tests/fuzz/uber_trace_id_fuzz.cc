// Fuzzes Jaeger `uber-trace-id` parsing: every accepted value must re-format
// to something that parses to the same context; a rejected one must leave
// the output untouched.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/propagation/jaeger_propagator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tracebridge::JaegerPropagator;
  using tracebridge::SpanContext;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  SpanContext parsed = tracebridge::FuzzSentinelContext();
  if (!JaegerPropagator::Parse(input, &parsed)) {
    FUZZ_CHECK(parsed == tracebridge::FuzzSentinelContext());
    return 0;
  }
  FUZZ_CHECK(parsed.IsValid());
  FUZZ_CHECK(parsed.IsRemote());
  char formatted[JaegerPropagator::kHeaderSize];
  const size_t formatted_size = JaegerPropagator::Format(parsed, formatted);
  FUZZ_CHECK(formatted_size == sizeof(formatted));
  SpanContext again;
  FUZZ_CHECK(JaegerPropagator::Parse(absl::string_view(formatted, formatted_size), &again));
  FUZZ_CHECK(again == parsed);
  return 0;
}
