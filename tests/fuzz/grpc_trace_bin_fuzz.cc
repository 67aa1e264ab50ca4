// Fuzzes `grpc-trace-bin` parsing: every accepted value must re-format to 29
// bytes that parse to the same context; a rejected one must leave the output
// untouched.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tracebridge::GrpcTraceBinPropagator;
  using tracebridge::SpanContext;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  SpanContext parsed = tracebridge::FuzzSentinelContext();
  if (!GrpcTraceBinPropagator::Parse(input, &parsed)) {
    FUZZ_CHECK(parsed == tracebridge::FuzzSentinelContext());
    return 0;
  }
  FUZZ_CHECK(parsed.IsValid());
  FUZZ_CHECK(parsed.IsRemote());
  FUZZ_CHECK((parsed.trace_flags().bits() & ~tracebridge::TraceFlags::kSampled) == 0);
  uint8_t formatted[GrpcTraceBinPropagator::kSize];
  FUZZ_CHECK(GrpcTraceBinPropagator::Format(parsed, formatted));
  SpanContext again;
  FUZZ_CHECK(GrpcTraceBinPropagator::Parse(
      absl::string_view(reinterpret_cast<const char*>(formatted), sizeof(formatted)), &again));
  FUZZ_CHECK(again == parsed);
  return 0;
}
