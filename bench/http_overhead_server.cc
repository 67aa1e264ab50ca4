// The HTTP overhead benchmark's server: the same Pistache route served twice
// on two loopback ports, once bare (a plain `Pistache::Rest::Router`) and once
// through a `TracedRouter` with 100% sampling, the batch span processor and a
// discarding exporter. bench/http_overhead.sh drives both with wrk.
//
// Prints "bare_port=<n> traced_port=<n>" on stdout, serves until stdin
// closes, then prints the traced side's figures ("traced_handled=<n>
// spans_ended=<n>") so a driver can check the traced route really ran.
//
// Flags: --threads=N        Pistache worker threads per endpoint (default 1)
//        --span_store       keep the in-memory span ring too (off by default)
//        --no_headers       traced, without the traceparent/X-Trace-ID
//                           response headers (to split the cost)
//        --metrics_only     traced router with tracing off (metrics only)

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <pistache/endpoint.h>
#include <pistache/router.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/http/traced_router.h"

namespace {

// Accepts every batch and keeps nothing: the benchmark measures the request
// path, not an exporter.
class DiscardingExporter final : public tracebridge::SpanExporter {
 public:
  absl::string_view Name() const noexcept override { return "discard"; }
  absl::Status Export(const tracebridge::Resource&,
                      absl::Span<const std::unique_ptr<tracebridge::SpanData>>,
                      absl::Time) override {
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
};

constexpr char kBody[] = "{\"id\":\"42\",\"status\":\"shipped\"}";

int Serve(int threads, bool span_store, const tracebridge::TracedRouterOptions& router_options) {
  absl::StatusOr<std::unique_ptr<tracebridge::Telemetry>> telemetry =
      tracebridge::TelemetryBuilder()
          .SetServiceName("http-overhead")
          .SetSampler(tracebridge::AlwaysOnSampler())
          .AddExporter(std::make_unique<DiscardingExporter>())
          .SetSpanStore(tracebridge::InMemorySpanExporterOptions(), span_store)
          .Build();
  if (!telemetry.ok()) {
    std::fprintf(stderr, "telemetry: %s\n", telemetry.status().ToString().c_str());
    return 1;
  }

  Pistache::Rest::Router bare_router;
  bare_router.get("/orders/:id",
                  [](const Pistache::Rest::Request&, Pistache::Http::ResponseWriter response) {
                    response.send(Pistache::Http::Code::Ok, kBody);
                    return Pistache::Rest::Route::Result::Ok;
                  });

  Pistache::Rest::Router traced_router;
  tracebridge::TracedRouter traced(traced_router, **telemetry, router_options);
  absl::Status status = traced.Get(
      "/orders/:id", [](const Pistache::Rest::Request&, tracebridge::TracedResponse response) {
        response.Send(Pistache::Http::Code::Ok, kBody);
      });
  if (!status.ok()) {
    std::fprintf(stderr, "route: %s\n", status.ToString().c_str());
    return 1;
  }

  const auto options = Pistache::Http::Endpoint::options().threads(threads);
  Pistache::Http::Endpoint bare(Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0)));
  bare.init(options);
  bare.setHandler(bare_router.handler());
  bare.serveThreaded();
  Pistache::Http::Endpoint traced_endpoint(
      Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0)));
  traced_endpoint.init(options);
  traced_endpoint.setHandler(traced.MakeHandler());
  traced_endpoint.serveThreaded();

  std::printf("bare_port=%d traced_port=%d\n", static_cast<uint16_t>(bare.getPort()),
              static_cast<uint16_t>(traced_endpoint.getPort()));
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
  }

  bare.shutdown();
  traced_endpoint.shutdown();
  uint64_t handled = 0;
  for (const tracebridge::SeriesSnapshot& series : (*telemetry)->metrics().Snapshot().series) {
    if (series.protocol == tracebridge::Protocol::kHttp && series.name == "/orders/:id") {
      handled += series.Handled();
    }
  }
  (void)(*telemetry)->Shutdown(absl::Seconds(5));
  std::printf("traced_handled=%llu spans_ended=%llu\n", static_cast<unsigned long long>(handled),
              static_cast<unsigned long long>((*telemetry)->Stats().tracer.spans_ended));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  bool span_store = false;
  tracebridge::TracedRouterOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      if (!absl::SimpleAtoi(argv[i] + 10, &threads) || threads < 1) {
        std::fprintf(stderr, "bad %s\n", argv[i]);
        return 2;
      }
    } else if (std::strcmp(argv[i], "--span_store") == 0) {
      span_store = true;
    } else if (std::strcmp(argv[i], "--no_headers") == 0) {
      options.trace_response_headers = false;
    } else if (std::strcmp(argv[i], "--metrics_only") == 0) {
      options.tracing = false;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--threads=N] [--span_store] [--no_headers] [--metrics_only]\n",
                   argv[0]);
      return 2;
    }
  }
  return Serve(threads, span_store, options);
}
