// File: tracebridge/admin/query_service.h
//
// The `tracebridge.v1.Query` service (proto/tracebridge/v1/query.proto): a
// service's live metrics from its `Telemetry`'s registry, its recent spans
// from the in-memory span store, and its pipeline's state. `InstallOn`
// registers it; register it by hand with `builder.RegisterService(&service)`.
//
// Bad requests get INVALID_ARGUMENT naming the field; ListSpans without a span
// store gets FAILED_PRECONDITION.

#ifndef TRACEBRIDGE_ADMIN_QUERY_SERVICE_H_
#define TRACEBRIDGE_ADMIN_QUERY_SERVICE_H_

#include "tracebridge/v1/query.grpc.pb.h"
#include "tracebridge/core/telemetry.h"

namespace tracebridge {

class QueryService final : public tracebridge::v1::Query::Service {
 public:
  // Limits on a request; larger values are INVALID_ARGUMENT.
  static constexpr int kMaxPageSize = 1000;
  static constexpr int kDefaultPageSize = 100;
  static constexpr size_t kMaxNamePrefix = 1024;

  // `telemetry` must outlive the service.
  explicit QueryService(Telemetry& telemetry) : telemetry_(telemetry) {}

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
  Telemetry& telemetry_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_QUERY_SERVICE_H_
