// File: tests/fuzz/fuzz_check.h
//
// `FUZZ_CHECK`: the assertion fuzz targets use, and `FuzzSentinelContext()`,
// the context a target pre-fills its output with to prove that a rejected
// input leaves it untouched.
//
// `FUZZ_CHECK`: It aborts (which libFuzzer
// and the replay driver both report as a crash) with the failed condition,
// in every build mode: fuzz targets must check their properties even with
// NDEBUG.
//
// Example:
//
//   FUZZ_CHECK(again == parsed);

#ifndef TRACEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
#define TRACEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include "tracebridge/core/trace/span_context.h"

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace tracebridge {

// A valid, recognisable local context that no parser produces from input
// (parsed contexts are remote).
inline SpanContext FuzzSentinelContext() {
  return SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                     SpanId::FromHex("b7ad6b7169203331"), TraceFlags(0), /*is_remote=*/false);
}

}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
