// File: tracebridge/admin/pages/rpcz.h
//
// The data of the `/rpcz` page: per gRPC method and HTTP route, on each
// side, the calls counted, errors, in flight, p50/p90/p99 and max latency,
// the status codes, and the latency histogram as its classic buckets (powers
// of two from 2^-20 s, core/metrics/histogram.h) from the first to the last
// that holds a call, each with its exemplar (a recent sampled call's trace
// and span id) when there is one. Registered series that saw no call are
// listed too (the page dims them); overflow series only once they count.
//
// Example:
//
//   std::string json = RpczJson(telemetry.metrics().Snapshot(), service);

#ifndef TRACEBRIDGE_ADMIN_PAGES_RPCZ_H_
#define TRACEBRIDGE_ADMIN_PAGES_RPCZ_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

// The page's data (a JSON document, see assets/rpcz.js).
std::string RpczJson(const MetricsSnapshot& snapshot, absl::string_view service);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_RPCZ_H_
