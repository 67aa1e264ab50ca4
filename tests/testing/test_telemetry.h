// File: tests/testing/test_telemetry.h
//
// The Telemetry every end-to-end test builds, and small readers of what it
// recorded: one place, shared by the gRPC and the Pistache fixtures.

#ifndef TRACEBRIDGE_TESTS_TESTING_TEST_TELEMETRY_H_
#define TRACEBRIDGE_TESTS_TESTING_TEST_TELEMETRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/telemetry.h"

namespace tracebridge {
namespace testing {

// Every propagation format the tests speak, in extraction order.
inline constexpr char kAllPropagators[] = "tracecontext,baggage,b3,b3multi,jaeger,xtrace";

// A temporary directory for this test (TEST_TMPDIR under Bazel).
std::string TestTempDir();

// Telemetry for service `name`: the given propagators, the simple processor
// (a span is in the span store when End returns), spans also in
// $TEST_TMPDIR/<name>.jsonl. `configure` may change the builder further.
// Aborts the test binary on error.
std::unique_ptr<Telemetry> MakeTestTelemetry(
    const std::string& name, const std::string& propagators = kAllPropagators,
    std::function<void(TelemetryBuilder&)> configure = nullptr);

// The count of `code` in a series snapshot (0 when absent).
uint64_t StatusCountOf(const SeriesSnapshot& series, int code);

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_TEST_TELEMETRY_H_
