// File: http/endpoints.cc

#include "tracebridge/http/endpoints.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/export/memory_exporter.h"
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

EndpointReply ReplyFor(Telemetry& telemetry, Which which, const Pistache::Rest::Request& request) {
  switch (which) {
    case Which::kPrometheus:
      return PrometheusReply(telemetry, RequestHeaderReader(request.headers()).Get("Accept"));
    case Which::kMetricsJson:
      return MetricsJsonReply(telemetry);
    case Which::kTrace:
      break;
  }
  return TraceReply(telemetry, request.param(":trace_id").as<std::string>());
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

EndpointReply TraceReply(Telemetry& telemetry, absl::string_view trace_id) {
  if (!IsTraceIdText(trace_id)) {
    return TextReply(400, "trace id must be 32 lowercase hex digits");
  }
  const TraceId id = TraceId::FromHex(trace_id);
  if (!id.IsValid()) return TextReply(400, "the all-zero trace id is invalid");
  InMemorySpanExporter* store = telemetry.span_store();
  if (store == nullptr) return TextReply(503, "the span store is disabled");
  const std::vector<StoredSpan> spans = store->FindTrace(id);
  if (spans.empty()) return TextReply(404, "no span of this trace is stored");
  EndpointReply reply{200, std::string(kJsonContentType), {}};
  std::string& out = reply.body;
  out.append("{\"trace_id\":");
  AppendJsonString(id.ToHex(), &out);
  out.append(",\"spans\":[");
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out.push_back(',');
    static const Resource* const kNoResource = new Resource();
    JsonLinesExporter::AppendSpanLine(
        spans[i].resource != nullptr ? *spans[i].resource : *kNoResource, *spans[i].span, &out);
    // AppendSpanLine ends its line with '\n'; inside the array it is not wanted.
    if (!out.empty() && out.back() == '\n') out.pop_back();
  }
  out.append("]}");
  return reply;
}

absl::Status MountTelemetryEndpoints(TracedRouter& router, Telemetry& telemetry,
                                     const TelemetryEndpointOptions& options) {
  return MountOn(options, [&](const std::string& path, Which which) {
    Telemetry* const t = &telemetry;
    return router.Get(path,
                      [t, which](const Pistache::Rest::Request& request, TracedResponse response) {
                        const EndpointReply reply = ReplyFor(*t, which, request);
                        SetContentType(response.headers(), reply);
                        response.Send(static_cast<Pistache::Http::Code>(reply.status), reply.body);
                      });
  });
}

absl::Status MountTelemetryEndpoints(Pistache::Rest::Router& router, Telemetry& telemetry,
                                     const TelemetryEndpointOptions& options) {
  return MountOn(options, [&](const std::string& path, Which which) -> absl::Status {
    Telemetry* const t = &telemetry;
    try {
      router.get(path, [t, which](const Pistache::Rest::Request& request,
                                  Pistache::Http::ResponseWriter response) {
        try {
          const EndpointReply reply = ReplyFor(*t, which, request);
          SetContentType(response.headers(), reply);
          response.send(static_cast<Pistache::Http::Code>(reply.status), reply.body);
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
