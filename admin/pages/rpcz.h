// File: tracebridge/admin/pages/rpcz.h
//
// The data of the `/rpcz` page: per gRPC method and HTTP route, on each
// side, the calls counted, errors, in flight, p50/p90/p99 and max latency,
// the status codes, and the latency histogram as its classic buckets (powers
// of two from 2^-20 s, core/metrics/histogram.h) from the first to the last
// that holds a call, each with its exemplar (a recent sampled call's trace
// and span id) when there is one. Registered series that saw no call are
// listed too (the page dims them); overflow series only once they count.
// With stream progress on (core/stream_monitor.h), each gRPC series also
// has the age of its oldest watched stream in flight, and the page lists up
// to `kRpczMaxStreams` streams in flight, oldest first: side, method, age,
// messages so far, progress events and a link to the stream's trace.
//
// Example:
//
//   std::string json = RpczJson(telemetry.metrics().Snapshot(), service,
//                               telemetry.streams().InFlight(kRpczMaxStreams));

#ifndef TRACEBRIDGE_ADMIN_PAGES_RPCZ_H_
#define TRACEBRIDGE_ADMIN_PAGES_RPCZ_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/stream_monitor.h"

namespace tracebridge {

// Streams in flight the page lists at most.
inline constexpr size_t kRpczMaxStreams = 50;

// The page's data (a JSON document, see assets/rpcz.js). `streams`: the
// watched streams in flight, oldest first.
std::string RpczJson(const MetricsSnapshot& snapshot, absl::string_view service,
                     const std::vector<InFlightStream>& streams = {});

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_RPCZ_H_
