// File: http/endpoints.cc

#include "tracebridge/http/endpoints.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/export/span_page.h"
#include "tracebridge/core/metrics/metrics_json.h"
#include "tracebridge/core/metrics/prometheus.h"
#include "tracebridge/core/util/json_writer.h"
#include "tracebridge/http/header_carrier.h"

namespace tracebridge {
namespace {

constexpr char kTextContentType[] = "text/plain; charset=utf-8";

EndpointReply TextReply(int status, absl::string_view text) {
  return EndpointReply{status, kTextContentType, absl::StrCat(text, "\n")};
}

// True for exactly 32 lowercase hex digits.
bool IsTraceIdText(absl::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Adds the Content-Type as a named header: Pistache's MediaType parser does
// not keep parameters such as `version=0.0.4`. The reply is then sent with
// no MediaType, so Pistache never reads the header back as its typed one.
void SetContentType(Pistache::Http::Header::Collection& headers, const EndpointReply& reply) {
  ResponseHeaderWriter(&headers).Set("Content-Type", reply.content_type);
}

void SetExtraHeaders(Pistache::Http::Header::Collection& headers, const EndpointReply& reply) {
  ResponseHeaderWriter writer(&headers);
  for (const auto& header : reply.headers) writer.Set(header.first, header.second);
}

// A request for an endpoint, as the access policy sees it.
class HttpAccessRequest final : public AccessRequest {
 public:
  explicit HttpAccessRequest(const Pistache::Http::Request& request)
      : request_(request), headers_(request.headers()) {}

  absl::string_view protocol() const override { return "http"; }
  absl::string_view path() const override { return request_.resource(); }
  std::string peer() const override {
    const Pistache::Address& address = request_.address();
    return absl::StrCat(address.host(), ":", static_cast<uint16_t>(address.port()));
  }
  std::string Header(absl::string_view name) const override {
    return std::string(headers_.Get(name));
  }

 private:
  const Pistache::Http::Request& request_;
  RequestHeaderReader headers_;
};

// Room a trace document keeps for everything but its span objects.
constexpr size_t kTraceEnvelopeBytes = 256;

const Resource& ResourceOrEmpty(const Resource* resource) {
  static const Resource* const kNoResource = new Resource();
  return resource != nullptr ? *resource : *kNoResource;
}

// Which reply a mounted path serves.
enum class Which { kPrometheus, kMetricsJson, kTrace };

// Validates the options, then calls `mount(path, which)` for each endpoint
// that has a path.
template <typename Fn>
absl::Status MountOn(const TelemetryEndpointOptions& options, Fn&& mount) {
  if (!options.traces_path.empty() && !absl::EndsWith(options.traces_path, "/:trace_id")) {
    return absl::InvalidArgumentError(
        absl::StrCat("traces_path \"", options.traces_path, "\" must end in /:trace_id"));
  }
  const std::pair<const std::string*, Which> endpoints[] = {
      {&options.metrics_path, Which::kPrometheus},
      {&options.metrics_json_path, Which::kMetricsJson},
      {&options.traces_path, Which::kTrace}};
  for (const auto& endpoint : endpoints) {
    if (endpoint.first->empty()) continue;
    absl::Status status = mount(*endpoint.first, endpoint.second);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// What a mounted endpoint needs at request time.
struct Mounted {
  Telemetry* telemetry;
  Which which;
  size_t max_trace_bytes;
  AccessPolicy access;
};

EndpointReply ReplyFor(const Mounted& mounted, const Pistache::Rest::Request& request) {
  absl::optional<EndpointReply> refusal = AccessRefusal(mounted.access, request);
  if (refusal.has_value()) return std::move(*refusal);
  Telemetry& telemetry = *mounted.telemetry;
  switch (mounted.which) {
    case Which::kPrometheus:
      return PrometheusReply(telemetry, RequestHeaderReader(request.headers()).Get("Accept"));
    case Which::kMetricsJson:
      return MetricsJsonReply(telemetry);
    case Which::kTrace:
      break;
  }
  return TraceReply(telemetry, request.param(":trace_id").as<std::string>(),
                    request.query().get("page_token").value_or(""), mounted.max_trace_bytes);
}

}  // namespace

EndpointReply PrometheusReply(Telemetry& telemetry, absl::string_view accept) {
  const ExpositionFormat format = NegotiateExpositionFormat(accept);
  return EndpointReply{200, std::string(ExpositionContentType(format)),
                       EncodeExposition(telemetry.metrics().Snapshot(), format)};
}

EndpointReply MetricsJsonReply(Telemetry& telemetry) {
  return EndpointReply{
      200, std::string(kJsonContentType),
      EncodeJson(telemetry.metrics().Snapshot(), telemetry.resource().service_name)};
}

EndpointReply TraceReply(Telemetry& telemetry, absl::string_view trace_id,
                         absl::string_view page_token, size_t max_bytes) {
  if (!IsTraceIdText(trace_id)) {
    return TextReply(400, "trace id must be 32 lowercase hex digits");
  }
  const TraceId id = TraceId::FromHex(trace_id);
  if (!id.IsValid()) return TextReply(400, "the all-zero trace id is invalid");
  InMemorySpanExporter* store = telemetry.span_store();
  if (store == nullptr) return TextReply(503, "the span store is disabled");
  SpanQuery query;
  query.trace_id = id;
  query.limit = SpanQuery::kMaxLimit;
  std::string scratch;
  // A span line's newline stands for the comma that separates it in the array.
  absl::StatusOr<SpanPage> page =
      ReadSpanPage(*store, query, page_token, absl::StrCat("traces|", id.ToHex()),
                   std::max(max_bytes, kMinSpanPageBytes) - kTraceEnvelopeBytes,
                   [&scratch](const SpanData& span, const Resource* resource) {
                     scratch.clear();
                     JsonLinesExporter::AppendSpanLine(ResourceOrEmpty(resource), span, &scratch);
                     return scratch.size();
                   });
  if (!page.ok()) return TextReply(400, page.status().message());
  if (page->spans.empty() && page_token.empty()) {
    return TextReply(404, "no span of this trace is stored");
  }
  EndpointReply reply{200, std::string(kJsonContentType), {}};
  std::string& out = reply.body;
  out.reserve(page->bytes + kTraceEnvelopeBytes);
  out.append("{\"trace_id\":");
  AppendJsonString(id.ToHex(), &out);
  out.append(",\"spans\":[");
  std::vector<std::string> truncated;
  for (size_t i = 0; i < page->spans.size(); ++i) {
    const StoredSpan& stored = page->spans[i].stored;
    if (i > 0) out.push_back(',');
    JsonLinesExporter::AppendSpanLine(ResourceOrEmpty(stored.resource.get()), *stored.span, &out);
    // AppendSpanLine ends its line with '\n'; inside the array it is not wanted.
    if (!out.empty() && out.back() == '\n') out.pop_back();
    if (page->spans[i].truncated) truncated.push_back(stored.span->context.span_id().ToHex());
  }
  out.append("]");
  if (!truncated.empty()) {
    out.append(",\"truncated_spans\":[");
    for (size_t i = 0; i < truncated.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(truncated[i], &out);
    }
    out.append("]");
  }
  if (!page->next_page_token.empty()) {
    out.append(",\"next_page_token\":");
    AppendJsonString(page->next_page_token, &out);
  }
  out.append("}");
  return reply;
}

absl::optional<EndpointReply> AccessRefusal(const AccessPolicy& policy,
                                            const Pistache::Http::Request& request) {
  if (policy.IsOpen()) return absl::nullopt;
  switch (CheckAccess(policy, HttpAccessRequest(request))) {
    case AccessDecision::kAllowed:
      return absl::nullopt;
    case AccessDecision::kUnauthenticated: {
      EndpointReply reply = TextReply(401, "a valid bearer token is required");
      reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tracebridge\"");
      return reply;
    }
    case AccessDecision::kDenied:
      break;
  }
  return TextReply(403, "refused by the access policy");
}

void SendReply(const EndpointReply& reply, Pistache::Http::ResponseWriter& response) {
  SetContentType(response.headers(), reply);
  SetExtraHeaders(response.headers(), reply);
  response.send(static_cast<Pistache::Http::Code>(reply.status), reply.body);
}

absl::Status MountTelemetryEndpoints(TracedRouter& router, Telemetry& telemetry,
                                     const TelemetryEndpointOptions& options) {
  return MountOn(options, [&](const std::string& path, Which which) {
    Mounted mounted{&telemetry, which, options.max_trace_bytes, options.access};
    return router.Get(path,
                      [mounted](const Pistache::Rest::Request& request, TracedResponse response) {
                        const EndpointReply reply = ReplyFor(mounted, request);
                        SetContentType(response.headers(), reply);
                        SetExtraHeaders(response.headers(), reply);
                        response.Send(static_cast<Pistache::Http::Code>(reply.status), reply.body);
                      });
  });
}

absl::Status MountTelemetryEndpoints(Pistache::Rest::Router& router, Telemetry& telemetry,
                                     const TelemetryEndpointOptions& options) {
  return MountOn(options, [&](const std::string& path, Which which) -> absl::Status {
    Mounted mounted{&telemetry, which, options.max_trace_bytes, options.access};
    try {
      router.get(path, [mounted](const Pistache::Rest::Request& request,
                                 Pistache::Http::ResponseWriter response) {
        try {
          SendReply(ReplyFor(mounted, request), response);
        } catch (const std::exception& e) {
          response.send(Pistache::Http::Code::Internal_Server_Error, e.what());
        }
        return Pistache::Rest::Route::Result::Ok;
      });
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("Pistache rejected route \"", path, "\": ", e.what()));
    }
    return absl::OkStatus();
  });
}

}  // namespace tracebridge
