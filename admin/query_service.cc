#include "tracebridge/admin/query_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include <google/protobuf/io/coded_stream.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/util/utf8.h"
#include "tracebridge/v1/histogram_conversion.h"

namespace tracebridge {
namespace {

namespace pb = ::tracebridge::v1;

grpc::Status InvalidArgument(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

// Span, resource and series strings are valid UTF-8 from the start (the span
// API, the builder and the registry repair them); names that reach a
// response another way (exporter and propagator names, the sampler's
// description) are repaired here, so protobuf never serialises an invalid
// `string` field.
void SetValidUtf8(absl::string_view text, std::string* field) {
  AssignValidUtf8(text, std::string::npos, field);
}

std::string DisplayName(const SeriesSnapshot& series) {
  if (series.protocol == Protocol::kGrpc) {
    return absl::StrCat(series.scope, "/", series.name);
  }
  return absl::StrCat(series.scope, " ", series.name);
}

void FillAttribute(const Attribute& attribute, pb::Attribute* out) {
  out->set_key(attribute.key);
  struct Visitor {
    pb::Attribute* out;
    void operator()(const std::string& v) const { out->set_string_value(v); }
    void operator()(int64_t v) const { out->set_int_value(v); }
    void operator()(double v) const { out->set_double_value(v); }
    void operator()(bool v) const { out->set_bool_value(v); }
  };
  absl::visit(Visitor{out}, attribute.value);
}

void FillSpan(const SpanData& span, const Resource* resource, pb::Span* out) {
  out->set_trace_id(span.context.trace_id().ToHex());
  out->set_span_id(span.context.span_id().ToHex());
  if (span.parent_span_id.IsValid()) out->set_parent_span_id(span.parent_span_id.ToHex());
  out->set_name(span.name);
  out->set_kind(std::string(SpanKindName(span.kind)));
  if (resource != nullptr) out->set_service_name(resource->service_name);
  out->set_start_unix_nanos(static_cast<uint64_t>(span.start_unix_nanos));
  out->set_end_unix_nanos(static_cast<uint64_t>(span.end_unix_nanos));
  out->set_duration_nanos(static_cast<uint64_t>(std::max<int64_t>(0, span.DurationNanos())));
  out->set_status(std::string(StatusCodeName(span.status)));
  out->set_status_description(span.status_description);
  for (const Attribute& attribute : span.attributes)
    FillAttribute(attribute, out->add_attributes());
  for (const SpanEvent& event : span.events) {
    pb::SpanEvent* e = out->add_events();
    e->set_name(event.name);
    e->set_time_unix_nanos(static_cast<uint64_t>(event.time_unix_nanos));
    for (const Attribute& attribute : event.attributes)
      FillAttribute(attribute, e->add_attributes());
  }
  for (const SpanLink& link : span.links) {
    pb::SpanLink* l = out->add_links();
    l->set_trace_id(link.context.trace_id().ToHex());
    l->set_span_id(link.context.span_id().ToHex());
    for (const Attribute& attribute : link.attributes)
      FillAttribute(attribute, l->add_attributes());
  }
  out->set_dropped_attributes(span.dropped_attributes);
  out->set_dropped_events(span.dropped_events);
  out->set_dropped_links(span.dropped_links);
}

// A call of the query service, as the access policy sees it.
class GrpcAccessRequest final : public AccessRequest {
 public:
  GrpcAccessRequest(const grpc::ServerContext& context, absl::string_view method)
      : context_(context), method_(method) {}

  absl::string_view protocol() const override { return "grpc"; }
  absl::string_view path() const override { return method_; }
  std::string peer() const override { return context_.peer(); }
  std::string Header(absl::string_view name) const override {
    const auto& metadata = context_.client_metadata();
    auto it = metadata.find(grpc::string_ref(name.data(), name.size()));
    return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
  }

 private:
  const grpc::ServerContext& context_;
  const absl::string_view method_;
};

// What one span adds to a ListSpansResponse: its field's tag, length and body.
size_t EncodedSpanSize(const SpanData& span, const Resource* resource, pb::Span* scratch) {
  scratch->Clear();
  FillSpan(span, resource, scratch);
  const size_t body = scratch->ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(body) + body;
}

// Room the response keeps for everything but its spans (the page token).
constexpr size_t kResponseOverheadBytes = 64;

}  // namespace

grpc::Status QueryService::Admit(grpc::ServerContext* context, absl::string_view method) const {
  if (options_.access.IsOpen()) return grpc::Status::OK;
  AccessDecision decision = AccessDecision::kDenied;
  if (context != nullptr) {
    decision = CheckAccess(options_.access, GrpcAccessRequest(*context, method));
  }
  switch (decision) {
    case AccessDecision::kAllowed:
      return grpc::Status::OK;
    case AccessDecision::kUnauthenticated:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "tracebridge.v1.Query: missing or wrong bearer token");
    case AccessDecision::kDenied:
      break;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "tracebridge.v1.Query: refused by the access policy");
}

grpc::Status QueryService::GetMetrics(grpc::ServerContext* context,
                                      const pb::GetMetricsRequest* request,
                                      pb::GetMetricsResponse* response) {
  grpc::Status admitted = Admit(context, "/tracebridge.v1.Query/GetMetrics");
  if (!admitted.ok()) return admitted;
  if (!pb::Protocol_IsValid(request->protocol())) return InvalidArgument("protocol: unknown value");
  if (!pb::Side_IsValid(request->side())) return InvalidArgument("side: unknown value");
  if (request->name_prefix().size() > kMaxNamePrefix) {
    return InvalidArgument(absl::StrCat("name_prefix: longer than ", kMaxNamePrefix, " bytes"));
  }
  const MetricsSnapshot snapshot = telemetry_.metrics().Snapshot();
  response->set_service_name(telemetry_.resource().service_name);
  response->set_snapshot_unix_nanos(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  for (const SeriesSnapshot& series : snapshot.series) {
    const pb::Protocol protocol =
        series.protocol == Protocol::kGrpc ? pb::PROTOCOL_GRPC : pb::PROTOCOL_HTTP;
    const pb::Side side = series.side == Side::kServer ? pb::SIDE_SERVER : pb::SIDE_CLIENT;
    if (request->protocol() != pb::PROTOCOL_UNSPECIFIED && request->protocol() != protocol)
      continue;
    if (request->side() != pb::SIDE_UNSPECIFIED && request->side() != side) continue;
    const std::string name = DisplayName(series);
    if (!absl::StartsWith(name, request->name_prefix())) continue;

    pb::SeriesMetrics* out = response->add_series();
    out->set_protocol(protocol);
    out->set_side(side);
    out->set_name(name);
    if (series.protocol == Protocol::kGrpc) {
      out->set_service(series.scope);
      out->set_method(series.name);
    } else {
      out->set_method(series.scope);
      out->set_route(series.name);
    }
    out->set_started(series.started);
    out->set_count(series.Handled());
    out->set_errors(series.Errors());
    for (const StatusCount& status : series.statuses) {
      pb::StatusCount* count = out->add_status_codes();
      count->set_code(status.code);
      count->set_count(status.count);
    }
    out->set_in_flight(static_cast<int64_t>(series.InFlight()));
    out->set_messages_received(series.messages_received);
    out->set_messages_sent(series.messages_sent);
    out->set_request_bytes(series.request_bytes);
    out->set_response_bytes(series.response_bytes);
    if (series.Count() > 0) {
      out->set_avg_seconds(series.MeanSeconds());
      out->set_p50_seconds(series.PercentileSeconds(0.50));
      out->set_p90_seconds(series.PercentileSeconds(0.90));
      out->set_p99_seconds(series.PercentileSeconds(0.99));
      out->set_max_seconds(series.MaxSeconds());
    }
    HistogramToProto(series.latency, out->mutable_latency());
  }
  return grpc::Status::OK;
}

grpc::Status QueryService::ListSpans(grpc::ServerContext* context,
                                     const pb::ListSpansRequest* request,
                                     pb::ListSpansResponse* response) {
  grpc::Status admitted = Admit(context, "/tracebridge.v1.Query/ListSpans");
  if (!admitted.ok()) return admitted;
  InMemorySpanExporter* store = telemetry_.span_store();
  if (store == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the span store is disabled");
  }
  if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
    return InvalidArgument(
        absl::StrCat("page_size: ", request->page_size(), " is outside 0..", kMaxPageSize));
  }
  SpanQuery query;
  if (!request->trace_id().empty()) {
    const TraceId trace_id = TraceId::FromHex(request->trace_id());
    if (!trace_id.IsValid()) {
      return InvalidArgument("trace_id: expected 32 lowercase hex digits, not all zero");
    }
    query.trace_id = trace_id;
  }
  query.min_duration = absl::Microseconds(
      static_cast<int64_t>(std::min<uint64_t>(request->min_duration_micros(), uint64_t{1} << 50)));
  query.errors_only = request->errors_only();
  query.limit = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
  // A token continues only the query it was issued for.
  const std::string scope =
      absl::StrCat("ListSpans|", request->trace_id(), "|", request->min_duration_micros(), "|",
                   request->errors_only() ? 1 : 0);
  const size_t max_bytes =
      std::max(options_.max_page_bytes, kMinSpanPageBytes) - kResponseOverheadBytes;
  pb::Span scratch;
  absl::StatusOr<SpanPage> page =
      ReadSpanPage(*store, query, request->page_token(), scope, max_bytes,
                   [&scratch](const SpanData& span, const Resource* resource) {
                     return EncodedSpanSize(span, resource, &scratch);
                   });
  if (!page.ok()) return InvalidArgument(page.status().message());
  response->mutable_spans()->Reserve(static_cast<int>(page->spans.size()));
  for (const PagedSpan& paged : page->spans) {
    pb::Span* out = response->add_spans();
    FillSpan(*paged.stored.span, paged.stored.resource.get(), out);
    out->set_truncated(paged.truncated);
  }
  response->set_next_page_token(std::move(page->next_page_token));
  return grpc::Status::OK;
}

grpc::Status QueryService::GetServiceInfo(grpc::ServerContext* context,
                                          const pb::GetServiceInfoRequest*,
                                          pb::ServiceInfo* response) {
  grpc::Status admitted = Admit(context, "/tracebridge.v1.Query/GetServiceInfo");
  if (!admitted.ok()) return admitted;
  response->set_service_name(telemetry_.resource().service_name);
  response->set_service_version(telemetry_.service_version());
  response->set_start_unix_nanos(static_cast<uint64_t>(absl::ToUnixNanos(telemetry_.start_time())));
  SetValidUtf8(telemetry_.tracer().sampler().Description(), response->mutable_sampler());
  for (const std::string& name : telemetry_.propagator_names()) {
    SetValidUtf8(name, response->add_propagators());
  }
  for (const ExporterState& exporter : telemetry_.exporters()) {
    pb::ExporterInfo* info = response->add_exporters();
    SetValidUtf8(exporter.name, info->mutable_name());
    info->set_state(exporter.running ? "running" : "shut_down");
  }
  const TelemetryStats stats = telemetry_.Stats();
  pb::SpanPipelineStats* pipeline = response->mutable_pipeline();
  pipeline->set_spans_started(stats.tracer.spans_started);
  pipeline->set_spans_ended(stats.tracer.spans_ended);
  pipeline->set_spans_exported(stats.processor.exported);
  pipeline->set_dropped_queue_full(stats.processor.dropped_queue_full);
  pipeline->set_dropped_shutdown(stats.processor.dropped_shutdown);
  pipeline->set_dropped_export_failed(stats.processor.dropped_export_failed);
  pipeline->set_export_calls(stats.processor.export_calls);
  pipeline->set_export_failures(stats.processor.export_failures);
  pipeline->set_queue_length(stats.processor.queue_length);
  pipeline->set_queue_capacity(stats.processor.queue_capacity);
  for (const Attribute& attribute : telemetry_.resource().attributes) {
    FillAttribute(attribute, response->add_resource_attributes());
  }
  response->set_library_version(std::string(kTracebridgeVersion));
  return grpc::Status::OK;
}

}  // namespace tracebridge
