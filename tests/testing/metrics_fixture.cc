// File: tests/testing/metrics_fixture.cc

#include "tests/testing/metrics_fixture.h"

#include <cstdint>
#include <vector>

#include "tracebridge/core/metrics/histogram.h"

namespace tracebridge {
namespace testing {

Exemplar SampledCall(uint8_t fill, int64_t unix_nanos) {
  Exemplar exemplar;
  for (uint8_t& b : exemplar.trace_id) b = fill;
  for (uint8_t& b : exemplar.span_id) b = static_cast<uint8_t>(fill + 1);
  exemplar.unix_nanos = unix_nanos;
  return exemplar;
}

void RecordRealisticMix(Registry* registry) {
  Series* say_hello = registry->RegisterGrpcMethod(Side::kServer, "helloworld.Greeter", "SayHello",
                                                   RpcType::kUnary);
  Series* route_chat = registry->RegisterGrpcMethod(Side::kServer, "routeguide.RouteGuide",
                                                    "RouteChat", RpcType::kBidiStreaming);
  registry->RegisterGrpcMethod(Side::kServer, "helloworld.Greeter", "NeverCalled");
  Series* client_call =
      registry->RegisterGrpcMethod(Side::kClient, "inventory.v1.Stock", "Reserve", RpcType::kUnary);
  Series* ping = registry->RegisterHttpRoute(Side::kServer, "GET", "/ping");
  Series* order = registry->RegisterHttpRoute(Side::kServer, "GET", "/orders/:id");
  Series* create = registry->RegisterHttpRoute(Side::kServer, "POST", "/orders");
  Series* hostile = registry->RegisterHttpRoute(Side::kServer, "PUT", kHostileRoute);
  Series* outgoing = registry->RegisterHttpRoute(Side::kClient, "GET", "/api/users/:id");

  // Every classic bucket, on and just above each bound (powers of two of
  // seconds, so 2^-20 s is not a whole number of nanoseconds: its floor
  // is in the zero bucket, the next nanosecond above), then overflow.
  for (int b = 0; b < kClassicLatencyNumBounds; ++b) {
    const uint64_t bound = static_cast<uint64_t>(ClassicLatencyBoundSeconds(b) * 1e9);
    say_hello->Start();
    say_hello->Finish(0, static_cast<int64_t>(bound));
    say_hello->Start();
    say_hello->Finish(0, static_cast<int64_t>(bound + 1));
  }
  say_hello->Start();
  say_hello->Finish(14, 300'000'000'000);  // UNAVAILABLE after 300 s: overflow
  say_hello->Start();
  say_hello->Finish(99, 1'000);  // not a gRPC code: "other"
  say_hello->Start();            // one still in flight

  for (int i = 0; i < 20; ++i) {
    route_chat->Start();
    for (int m = 0; m < 5 + i; ++m) route_chat->RecordMessageReceived(100);
    for (int m = 0; m < 3 * i; ++m) route_chat->RecordMessageSent(64);
    route_chat->Finish(i % 10 == 0 ? 4 : 0, 1'000'000'000 + i * 50'000'000);
  }
  for (int i = 0; i < 7; ++i) {
    client_call->Start();
    client_call->Finish(i == 3 ? 5 : 0, 2'000'000 + i * 100'000);
  }
  // Message sizes at both ends of the buckets: empty, and 2^32 bytes.
  client_call->RecordMessageSent(0);
  client_call->RecordMessageReceived(uint64_t{1} << 32);

  // Sampled calls: exemplars on three of ping's buckets (the last call of
  // each bucket wins).
  for (int i = 0; i < 100; ++i) {
    ping->Start();
    Exemplar exemplar = {};
    for (int b = 0; b < 16; ++b) exemplar.trace_id[b] = static_cast<uint8_t>(0x40 + i);
    for (int b = 0; b < 8; ++b) exemplar.span_id[b] = static_cast<uint8_t>(0x10 + i);
    exemplar.unix_nanos = 1'700'000'000'000'000'000 + i * 1'000'000;
    ping->Finish(200, 20'000 + i * 1'000, i % 10 == 0 ? &exemplar : nullptr);
  }
  for (int code : {200, 200, 404, 500, 503, 299, 520, 700}) {
    order->Start();
    order->Finish(code, 3'000'000);
  }
  create->Start();
  create->AddRequestBytes(512);
  create->AddResponseBytes(64);
  create->Finish(201, 8'000'000);
  hostile->Start();
  hostile->Finish(204, 1'000'000);
  outgoing->Start();
  outgoing->Finish(404, 40'000'000);
  outgoing->Start();
  outgoing->Finish(200, 30'000'000);

  // Unregistered names land in the overflow series.
  registry->FindGrpcFullMethod(Side::kServer, "/reflection.Reflect/Info")->Finish(12, 5'000);
  registry->FindHttpRoute(Side::kServer, "GET", "/favicon.ico")->Finish(404, 10'000);
  registry->FindHttpRoute(Side::kServer, "BREW", "/coffee")->Finish(418, 10'000);

  registry->AddCollector([](std::vector<MetricFamily>* out) {
    MetricFamily started;
    started.name = "tracebridge_spans_started_total";
    started.help = "Spans started by the tracer.";
    started.type = MetricType::kCounter;
    started.samples.push_back({{}, 1234});
    out->push_back(started);

    MetricFamily dropped;
    dropped.name = "tracebridge_spans_dropped";  // the encoder adds _total
    dropped.help = "Spans dropped before export, by reason.";
    dropped.type = MetricType::kCounter;
    dropped.samples.push_back({{{"reason", "queue_full"}}, 7});
    dropped.samples.push_back({{{"reason", "export \"failed\"\n"}}, 2});
    out->push_back(dropped);

    MetricFamily queue;
    queue.name = "tracebridge_span_queue_length";
    queue.help = "Spans waiting in the export queue.\nSampled at scrape time.";
    queue.type = MetricType::kGauge;
    queue.samples.push_back({{}, 3});
    out->push_back(queue);

    MetricFamily ratio;
    ratio.name = "tracebridge_sampler_ratio";
    ratio.help = "Configured sampling ratio.";
    ratio.samples.push_back({{{"sampler", "parentbased_traceidratio"}}, 0.125});
    out->push_back(ratio);
  });
}

}  // namespace testing
}  // namespace tracebridge
