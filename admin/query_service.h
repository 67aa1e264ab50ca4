// File: tracebridge/admin/query_service.h
//
// The `tracebridge.v1.Query` service (proto/tracebridge/v1/query.proto): a
// service's live metrics from its `Telemetry`'s registry, its recent spans
// from the in-memory span store, and its pipeline's state. The admin listener
// (admin/admin_listener.h) serves it on loopback; register it anywhere else
// by hand with `builder.RegisterService(&service)`, deliberately: span
// attributes hold other users' request paths, queries and peers.
//
// Access: every call first passes `options.access` (core/access_policy.h):
// UNAUTHENTICATED without the required bearer token, PERMISSION_DENIED when
// the predicate refuses.
//
// ListSpans pages are bounded by `options.max_page_bytes` of encoded spans as
// well as by `page_size` (core/export/span_page.h: a span over the bound on
// its own comes alone, trimmed, with `truncated` set). Page tokens are
// authenticated by the span store: one it did not issue for the same filters
// is INVALID_ARGUMENT.
//
// Bad requests get INVALID_ARGUMENT naming the field; ListSpans without a span
// store gets FAILED_PRECONDITION.
//
// Example:
//
//   tracebridge::QueryServiceOptions options;
//   options.access.bearer_token = token;
//   tracebridge::QueryService query(*telemetry, options);
//   admin_builder.RegisterService(&query);

#ifndef TRACEBRIDGE_ADMIN_QUERY_SERVICE_H_
#define TRACEBRIDGE_ADMIN_QUERY_SERVICE_H_

#include <cstddef>
#include <string>
#include <utility>

#include "tracebridge/core/access_policy.h"
#include "tracebridge/core/export/span_page.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {

struct QueryServiceOptions {
  // Who may call (default: whoever reaches the port).
  AccessPolicy access;
  // Bound on the encoded spans of one ListSpans response; smaller than
  // `kMinSpanPageBytes` is raised to it.
  size_t max_page_bytes = kDefaultSpanPageBytes;
};

// The name SeriesMetrics carries: "pkg.Service/Method" for gRPC,
// "METHOD /route/template" for HTTP (also the name of the calls' spans).
std::string SeriesDisplayName(const SeriesSnapshot& series);

// `span` (with its batch's `resource`, which may be null) as ListSpans sends
// it, for other readers of the span store that speak the same message.
void SpanToProto(const SpanData& span, const Resource* resource, tracebridge::v1::Span* out);

class QueryService final : public tracebridge::v1::Query::Service {
 public:
  // Limits on a request; larger values are INVALID_ARGUMENT.
  static constexpr int kMaxPageSize = 1000;
  static constexpr int kDefaultPageSize = 100;
  static constexpr size_t kMaxNamePrefix = 1024;

  // `telemetry` must outlive the service.
  explicit QueryService(Telemetry& telemetry, QueryServiceOptions options = {})
      : telemetry_(telemetry), options_(std::move(options)) {}

  grpc::Status GetMetrics(grpc::ServerContext* context,
                          const tracebridge::v1::GetMetricsRequest* request,
                          tracebridge::v1::GetMetricsResponse* response) override;
  grpc::Status ListSpans(grpc::ServerContext* context,
                         const tracebridge::v1::ListSpansRequest* request,
                         tracebridge::v1::ListSpansResponse* response) override;
  grpc::Status GetServiceInfo(grpc::ServerContext* context,
                              const tracebridge::v1::GetServiceInfoRequest* request,
                              tracebridge::v1::ServiceInfo* response) override;

 private:
  // OK, or the refusal of `context`'s call to `method` under the policy.
  grpc::Status Admit(grpc::ServerContext* context, absl::string_view method) const;

  Telemetry& telemetry_;
  const QueryServiceOptions options_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_QUERY_SERVICE_H_
