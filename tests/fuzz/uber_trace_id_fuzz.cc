// Fuzzes Jaeger `uber-trace-id` parsing: every accepted value must re-format
// to something that parses to the same context; a rejected one must leave
// the output untouched.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/jaeger_propagator.h"
#include "tests/fuzz/fuzz_check.h"

namespace tracebridge {
namespace {

SpanContext Sentinel() {
  return SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                     SpanId::FromHex("b7ad6b7169203331"), TraceFlags(0), /*is_remote=*/false);
}

}  // namespace
}  // namespace tracebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tracebridge::JaegerPropagator;
  using tracebridge::SpanContext;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  SpanContext parsed = tracebridge::Sentinel();
  if (!JaegerPropagator::Parse(input, &parsed)) {
    FUZZ_CHECK(parsed == tracebridge::Sentinel());
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
