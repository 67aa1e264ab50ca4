// Where to repair UTF-8: once, as strings enter a span, or in every encoder.
// The strings are those of a typical traced HTTP request (span name and the
// attributes the traced router sets).
//
// - BM_CopyStrings: the bare copy the span API did before repair (baseline).
// - BM_ValidUtf8Copy/{ascii,latin,invalid}: the same copies through
//   ValidUtf8Copy, as the span API now stores them.
// - BM_ValidateStrings: validation alone over the same strings: what an
//   encoder-side check would add per span, per encoder pass.
// - BM_OtlpEncodePerSpan: OTLP encoding of such spans (per span), for scale.
// - BM_HttpServerSpan: a whole sampled span with those attributes.

#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "tracebridge/core/trace/tracer.h"
#include "tracebridge/core/util/utf8.h"
#include "tracebridge/exporters/otlp/otlp_encoder.h"

namespace tracebridge {
namespace {

std::vector<std::string> RequestStrings(const std::string& path, const std::string& agent) {
  return {"GET /orders/:id",
          "http.request.method",
          "GET",
          "http.route",
          "/orders/:id",
          "url.scheme",
          "http",
          "url.path",
          path,
          "client.address",
          "127.0.0.1",
          "user_agent.original",
          agent,
          "http.response.status_code"};
}

const std::string kAgent =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36";

std::vector<std::string> Strings(int64_t kind) {
  switch (kind) {
    case 0:
      return RequestStrings("/orders/12345", kAgent);
    case 1:
      return RequestStrings(
          "/st\xC3\xA4"
          "dte/z\xC3\xBCrich/caf\xC3\xA9",
          kAgent + " \xC3\xBC");
    default:
      return RequestStrings("/orders/caf\xFF", kAgent + " \xFF");
  }
}

const char* KindName(int64_t kind) { return kind == 0 ? "ascii" : kind == 1 ? "latin" : "invalid"; }

void BM_CopyStrings(benchmark::State& state) {
  const std::vector<std::string> strings = Strings(state.range(0));
  std::vector<std::string> out(strings.size());
  for (auto _ : state) {
    for (size_t i = 0; i < strings.size(); ++i) out[i] = std::string(CutUtf8(strings[i], 4096));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(KindName(state.range(0)));
}
BENCHMARK(BM_CopyStrings)->Arg(0)->Arg(1)->Arg(2);

void BM_ValidUtf8Copy(benchmark::State& state) {
  const std::vector<std::string> strings = Strings(state.range(0));
  std::vector<std::string> out(strings.size());
  for (auto _ : state) {
    for (size_t i = 0; i < strings.size(); ++i) out[i] = ValidUtf8Copy(strings[i], 4096);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(KindName(state.range(0)));
}
BENCHMARK(BM_ValidUtf8Copy)->Arg(0)->Arg(1)->Arg(2);

void BM_ValidateStrings(benchmark::State& state) {
  const std::vector<std::string> strings = Strings(state.range(0));
  for (auto _ : state) {
    bool valid = true;
    for (const std::string& text : strings) valid &= IsValidUtf8(text);
    benchmark::DoNotOptimize(valid);
  }
  state.SetLabel(KindName(state.range(0)));
}
BENCHMARK(BM_ValidateStrings)->Arg(0)->Arg(1);

std::unique_ptr<SpanData> HttpSpanData() {
  const std::vector<std::string> s = Strings(0);
  auto span = std::make_unique<SpanData>();
  span->name = s[0];
  span->kind = SpanKind::kServer;
  span->context = SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags(1), false);
  span->start_unix_nanos = 1700000000000000000;
  span->end_unix_nanos = 1700000000000100000;
  for (size_t i = 1; i + 1 < s.size(); i += 2) span->attributes.push_back({s[i], s[i + 1]});
  span->attributes.push_back({s.back(), int64_t{200}});
  return span;
}

void BM_OtlpEncodePerSpan(benchmark::State& state) {
  constexpr int kBatch = 64;
  std::vector<std::unique_ptr<SpanData>> batch;
  for (int i = 0; i < kBatch; ++i) batch.push_back(HttpSpanData());
  Resource resource;
  resource.service_name = "gateway";
  OtlpTraceEncoder encoder;
  std::string bytes;
  for (auto _ : state) {
    bytes.resize(encoder.Prepare(resource, batch));
    encoder.Write(&bytes[0]);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_OtlpEncodePerSpan);

class DiscardingProcessor final : public SpanProcessor {
 public:
  void OnEnd(std::unique_ptr<SpanData>) noexcept override {}
  absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
};

void BM_HttpServerSpan(benchmark::State& state) {
  const std::vector<std::string> s = Strings(state.range(0));
  DiscardingProcessor processor;
  Tracer tracer({"bench", AlwaysOnSampler(), &processor});
  for (auto _ : state) {
    Span span = tracer.StartSpan(s[0], {.kind = SpanKind::kServer});
    for (size_t i = 1; i + 1 < s.size(); i += 2) span.SetAttribute(s[i], s[i + 1]);
    span.SetAttribute(s.back(), 200);
    span.End();
  }
  state.SetLabel(KindName(state.range(0)));
}
BENCHMARK(BM_HttpServerSpan)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace tracebridge
