// File: tests/testing/metrics_fixture.h
//
// A realistic, deterministic mix of recordings for encoder tests, the
// conformance checks and the encode benchmark: gRPC and HTTP, server and
// client, unary and streaming, every classic histogram bucket, exemplars, uncommon and invalid
// status codes, unregistered names, hostile route text, and a fake span
// pipeline collector.
//
// Example:
//
//   tracebridge::Registry registry;
//   tracebridge::testing::RecordRealisticMix(&registry);
//   std::string text = tracebridge::EncodePrometheus(registry.Snapshot());

#ifndef TRACEBRIDGE_TESTS_TESTING_METRICS_FIXTURE_H_
#define TRACEBRIDGE_TESTS_TESTING_METRICS_FIXTURE_H_

#include <cstdint>

#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {
namespace testing {

// A route template containing a quote, a backslash, a newline, a control
// character and invalid UTF-8: every escaping path at once.
inline constexpr char kHostileRoute[] = "/we\"ird\\path\n\x01/\xff\xc3(/caf\xc3\xa9";

// Registers and records the mix into `registry`, and adds a collector that
// reports span-pipeline self-metrics with fixed values.
void RecordRealisticMix(Registry* registry);

// The exemplar of a sampled call that ended at `unix_nanos`: every trace id
// byte `fill`, every span id byte `fill + 1`.
Exemplar SampledCall(uint8_t fill, int64_t unix_nanos);

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_METRICS_FIXTURE_H_
