#include "tracebridge/admin/pages/pages.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tracebridge/admin/pages/html.h"
#include "tracebridge/admin/pages/rpcz.h"
#include "tracebridge/admin/pages/tracez.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/util/json_writer.h"
#include "tracebridge/http/endpoints.h"
#include "tracebridge/http/header_carrier.h"

namespace tracebridge {
namespace {

// What every handler shares.
struct Shared {
  Telemetry* telemetry;
  PagesOptions options;
  std::unique_ptr<TraceAssembler> assembler;
};

std::string Param(const Pistache::Rest::Request& request, const std::string& name) {
  return request.query().get(name).value_or("");
}

// A page that only says what went wrong (the data's "error").
EndpointReply ErrorPage(const Shared& shared, int status, absl::string_view kind,
                        const PageAsset* script, absl::string_view trace_id,
                        absl::string_view message) {
  Page page;
  page.status = status;
  page.title = "Trace";
  page.service = shared.telemetry->resource().service_name;
  page.kind = kind;
  page.script = script;
  JsonWriter json(&page.data_json);
  json.BeginObject().Key("trace_id").String(trace_id).Key("error").String(message).EndObject();
  return RenderPage(page);
}

EndpointReply TracePage(const Shared& shared, const std::string& trace_id) {
  // FromHex takes exactly 32 lowercase hex digits; all zero is invalid too.
  const TraceId id = TraceId::FromHex(trace_id);
  if (!id.IsValid()) {
    return ErrorPage(shared, 400, "trace", &kTraceJs, trace_id,
                     "a trace id is 32 lowercase hex digits, not all zero");
  }
  const AssembledTrace trace = shared.assembler->Assemble(id);
  Page page;
  page.status = trace.spans.empty() ? 404 : 200;
  page.title = absl::StrCat("Trace ", trace_id.substr(0, 8));
  page.service = shared.telemetry->resource().service_name;
  page.kind = "trace";
  page.script = &kTraceJs;
  page.data_json = TraceViewJson(trace, page.service);
  return RenderPage(page);
}

EndpointReply TracezPage(const Shared& shared, const Pistache::Rest::Request& request) {
  const TracezFilter filter = TracezFilterFromQuery(
      Param(request, "name"), Param(request, "kind"), Param(request, "errors"),
      Param(request, "min_ms"), Param(request, "min_ns"), Param(request, "max_ns"));
  Page page;
  page.title = "Traces";
  page.service = shared.telemetry->resource().service_name;
  page.kind = "tracez";
  page.script = &kTracezJs;
  std::vector<StoredSpan> spans;
  if (InMemorySpanExporter* store = shared.telemetry->span_store(); store != nullptr) {
    spans = store->MostRecent(SpanQuery::kMaxLimit);
  }
  page.data_json = TracezJson(spans, filter, page.service, shared.options.tracez_max_traces);
  return RenderPage(page);
}

EndpointReply RpczPage(const Shared& shared) {
  Page page;
  page.title = "RPCs";
  page.service = shared.telemetry->resource().service_name;
  page.kind = "rpcz";
  page.script = &kRpczJs;
  page.data_json = RpczJson(shared.telemetry->metrics().Snapshot(), page.service,
                            shared.telemetry->streams().InFlight(kRpczMaxStreams));
  return RenderPage(page);
}

using Handler = std::function<EndpointReply(const Shared&, const Pistache::Rest::Request& request)>;

absl::Status Mount(Pistache::Rest::Router& router, const std::string& path,
                   std::shared_ptr<const Shared> shared, Handler handler) {
  return MountReplyRoute(router, path, [shared, handler](const Pistache::Rest::Request& request) {
    absl::optional<EndpointReply> refusal = AccessRefusal(shared->options.access, request);
    return refusal.has_value() ? *std::move(refusal) : handler(*shared, request);
  });
}

}  // namespace

absl::Status MountPages(Pistache::Rest::Router& router, Telemetry& telemetry,
                        const PagesOptions& options) {
  if (!options.enabled) return absl::OkStatus();
  if (options.trace.peer_concurrency < 1) {
    return absl::InvalidArgumentError("pages: peer_concurrency must be at least 1");
  }
  if (options.trace.peer_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("pages: peer_deadline must be positive");
  }
  for (const AdminPeer& peer : options.peers) {
    if (peer.address.empty()) return absl::InvalidArgumentError("pages: a peer has no address");
  }
  auto shared = std::make_shared<Shared>();
  shared->telemetry = &telemetry;
  shared->options = options;
  shared->assembler = std::make_unique<TraceAssembler>(telemetry, options.peers, options.trace);
  std::shared_ptr<const Shared> frozen = std::move(shared);

  absl::Status status =
      Mount(router, "/tracez", frozen, [](const Shared& s, const Pistache::Rest::Request& request) {
        return TracezPage(s, request);
      });
  if (status.ok()) {
    status = Mount(router, "/rpcz", frozen,
                   [](const Shared& s, const Pistache::Rest::Request&) { return RpczPage(s); });
  }
  if (status.ok()) {
    status = Mount(router, "/traces/:trace_id", frozen,
                   [](const Shared& s, const Pistache::Rest::Request& request) {
                     const std::string id = request.param(":trace_id").as<std::string>();
                     if (AcceptsHtml(RequestHeaderReader(request.headers()).Get("Accept"))) {
                       return TracePage(s, id);
                     }
                     return TraceReply(*s.telemetry, id, Param(request, "page_token"),
                                       s.options.max_trace_bytes);
                   });
  }
  if (status.ok()) {
    status = Mount(router, "/", frozen, [](const Shared&, const Pistache::Rest::Request&) {
      EndpointReply reply{302, "text/plain; charset=utf-8", "see /tracez\n"};
      reply.headers.emplace_back("Location", "/tracez");
      return reply;
    });
  }
  return status;
}

}  // namespace tracebridge
