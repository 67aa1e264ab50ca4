// OTLP metrics: the snapshot → ExportMetricsServiceRequest mapping field by
// field (both namings, cumulative, delta, low-memory, explicit buckets), the
// metric exporter's options from the environment, and the exporter over
// OTLP/gRPC into the scripted receiver: retries, partial success, deltas
// across a failed export, and a traced server's own metrics end to end.

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/metrics_fixture.h"
#include "tests/testing/otlp_receiver.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/metrics/histogram.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/metrics/size_histogram.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/exporters/otlp/otlp_metric_exporter.h"
#include "tracebridge/exporters/otlp/otlp_metrics_encoder.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::metrics::v1;
namespace common = ::opentelemetry::proto::common::v1;
namespace otlp = ::opentelemetry::proto::metrics::v1;

Resource TestResource() {
  Resource resource;
  resource.service_name = "orders";
  resource.attributes.push_back({"service.version", std::string("2.1")});
  resource.attributes.push_back({"deployment.environment", std::string("test")});
  return resource;
}

// Attributes as "k=v" strings (ints without quotes), in order.
std::vector<std::string> AttributeList(
    const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes) {
  std::vector<std::string> out;
  for (const common::KeyValue& kv : attributes) {
    if (kv.value().value_case() == common::AnyValue::kIntValue) {
      out.push_back(absl::StrCat(kv.key(), "=", kv.value().int_value()));
    } else {
      out.push_back(absl::StrCat(kv.key(), "=\"", kv.value().string_value(), "\""));
    }
  }
  return out;
}

std::string Attrs(const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes) {
  std::string out;
  for (const std::string& item : AttributeList(attributes)) absl::StrAppend(&out, item, ";");
  return out;
}

// The metrics of a request by name (its one ResourceMetrics and ScopeMetrics).
std::map<std::string, otlp::Metric> ByName(const collector::ExportMetricsServiceRequest& request) {
  std::map<std::string, otlp::Metric> out;
  EXPECT_EQ(request.resource_metrics_size(), 1);
  if (request.resource_metrics_size() != 1) return out;
  EXPECT_EQ(request.resource_metrics(0).scope_metrics_size(), 1);
  for (const auto& scope : request.resource_metrics(0).scope_metrics()) {
    for (const otlp::Metric& metric : scope.metrics()) {
      EXPECT_TRUE(out.emplace(metric.name(), metric).second) << "twice: " << metric.name();
    }
  }
  return out;
}

// The number point of `metric` (a Sum or Gauge) whose attributes are `attrs`.
// The point of `points` (of `metric`) whose attributes are `attrs`.
template <typename Points>
const typename Points::value_type* FindPoint(const otlp::Metric& metric, const Points& points,
                                             const std::string& attrs) {
  for (const auto& point : points) {
    if (Attrs(point.attributes()) == attrs) return &point;
  }
  ADD_FAILURE() << "no point {" << attrs << "} in " << metric.name();
  return nullptr;
}

const otlp::NumberDataPoint* Point(const otlp::Metric& metric, const std::string& attrs) {
  return FindPoint(
      metric, metric.has_sum() ? metric.sum().data_points() : metric.gauge().data_points(), attrs);
}

const otlp::HistogramDataPoint* ExplicitPoint(const otlp::Metric& metric,
                                              const std::string& attrs) {
  return FindPoint(metric, metric.histogram().data_points(), attrs);
}

// A message-size point has every bound 0, 1, 2 … 2^32 and one count per
// bucket; `counts` lists its non-empty buckets by upper bound (-1: +Inf).
void ExpectSizes(const otlp::HistogramDataPoint* point, std::map<int64_t, uint64_t> counts,
                 double sum) {
  ASSERT_NE(point, nullptr);
  ASSERT_EQ(point->explicit_bounds_size(), kSizeNumBounds);
  ASSERT_EQ(point->bucket_counts_size(), kSizeNumBuckets);
  uint64_t total = 0;
  for (int b = 0; b < kSizeNumBuckets; ++b) {
    const int64_t bound = b < kSizeNumBounds ? static_cast<int64_t>(SizeBucketBound(b)) : -1;
    if (b < kSizeNumBounds) {
      EXPECT_EQ(point->explicit_bounds(b), static_cast<double>(bound));
    }
    EXPECT_EQ(point->bucket_counts(b), counts.count(bound) ? counts[bound] : 0) << bound;
    total += point->bucket_counts(b);
  }
  EXPECT_EQ(point->count(), total);
  EXPECT_EQ(point->sum(), sum);
  EXPECT_FALSE(point->has_min());
  EXPECT_FALSE(point->has_max());
}

const otlp::ExponentialHistogramDataPoint* ExpPoint(const otlp::Metric& metric,
                                                    const std::string& attrs) {
  return FindPoint(metric, metric.exponential_histogram().data_points(), attrs);
}

using testing::SampledCall;

// A registry with one of each: a unary gRPC server method with statuses and
// an exemplar, a client method, an HTTP route, and collector families.
struct Recorded {
  Registry registry;
  Series* get;
  Series* reserve;
  Series* route;

  explicit Recorded(RegistryOptions options = {}) : registry(options) {
    get = registry.RegisterGrpcMethod(Side::kServer, "shop.Orders", "Get", RpcType::kUnary);
    reserve = registry.RegisterGrpcMethod(Side::kClient, "shop.Stock", "Reserve",
                                          RpcType::kServerStreaming);
    route = registry.RegisterHttpRoute(Side::kServer, "GET", "/orders/:id");
    get->Start();
    get->RecordMessageReceived(12);
    get->RecordMessageSent(40);
    const Exemplar exemplar = SampledCall(0x4b, 1'700'000'000'000'000'000);
    get->Finish(0, 1'500'000, &exemplar);  // 1.5 ms
    get->Start();
    get->Finish(14, 3'000'000);  // UNAVAILABLE: a server error
    get->Start();
    get->Finish(5, 500);  // NOT_FOUND, in the zero bucket
    get->Start();         // in flight
    reserve->Start();
    reserve->AddMessagesReceived(4);
    reserve->Finish(0, 2'000'000'000);
    route->Start();
    route->Finish(503, 10'000'000);
    registry.AddCollector([this](std::vector<MetricFamily>* out) {
      out->push_back({"tracebridge_spans_dropped_total",
                      "Spans dropped, by reason.",
                      MetricType::kCounter,
                      {{{{"reason", "queue_full"}}, dropped}}});
      out->push_back({"tracebridge_span_queue_length", "Queue.", MetricType::kGauge, {{{}, 7}}});
    });
  }
  double dropped = 3;
};

TEST(OtlpMetricsEncoderTest, CumulativeOtelEveryField) {
  Recorded recorded;
  const MetricsSnapshot snapshot = recorded.registry.Snapshot();
  collector::ExportMetricsServiceRequest request;
  const size_t points = FillOtlpMetricsRequest(TestResource(), snapshot, nullptr, {}, &request);

  ASSERT_EQ(request.resource_metrics_size(), 1);
  const auto& resource = request.resource_metrics(0).resource();
  EXPECT_EQ(AttributeList(resource.attributes()),
            (std::vector<std::string>{"service.name=\"orders\"", "service.version=\"2.1\"",
                                      "deployment.environment=\"test\""}));
  const auto& scope = request.resource_metrics(0).scope_metrics(0).scope();
  EXPECT_EQ(scope.name(), "tracebridge");
  EXPECT_FALSE(scope.version().empty());

  std::map<std::string, otlp::Metric> metrics = ByName(request);
  const uint64_t now = static_cast<uint64_t>(snapshot.unix_nanos);
  const std::string get = "rpc.system.name=\"grpc\";rpc.method=\"shop.Orders/Get\";";

  // The duration histogram: the series' latency, field by field.
  const otlp::Metric& duration = metrics["rpc.server.call.duration"];
  EXPECT_EQ(duration.unit(), "s");
  EXPECT_FALSE(duration.description().empty());
  ASSERT_TRUE(duration.has_exponential_histogram());
  EXPECT_EQ(duration.exponential_histogram().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(duration.exponential_histogram().data_points_size(), 1);
  const auto* h = ExpPoint(duration, get);
  ASSERT_NE(h, nullptr);
  const ExponentialHistogram& latency = snapshot.series[0].latency;  // shop.Orders/Get sorts first
  ASSERT_EQ(snapshot.series[0].name, "Get");
  EXPECT_EQ(h->start_time_unix_nano(), static_cast<uint64_t>(recorded.get->start_unix_nanos()));
  EXPECT_GT(h->start_time_unix_nano(), 0u);
  EXPECT_EQ(h->time_unix_nano(), now);
  EXPECT_EQ(h->count(), 3u);
  EXPECT_DOUBLE_EQ(h->sum(), 0.0045005);
  EXPECT_EQ(h->scale(), 5);
  EXPECT_EQ(h->zero_count(), 1u);
  EXPECT_EQ(h->zero_threshold(), std::ldexp(1.0, -20));
  EXPECT_EQ(h->positive().offset(), latency.offset);
  EXPECT_EQ(h->positive().offset(), LatencyIndex(1'500'000));
  ASSERT_EQ(h->positive().bucket_counts_size(), static_cast<int>(latency.bucket_counts.size()));
  EXPECT_EQ(h->positive().bucket_counts(0), 1u);
  EXPECT_EQ(h->positive().bucket_counts(h->positive().bucket_counts_size() - 1), 1u);
  EXPECT_EQ(h->positive().offset() + h->positive().bucket_counts_size() - 1,
            LatencyIndex(3'000'000));
  EXPECT_FALSE(h->has_negative());
  ASSERT_TRUE(h->has_min() && h->has_max());
  EXPECT_DOUBLE_EQ(h->min(), 500e-9);
  EXPECT_DOUBLE_EQ(h->max(), 0.003);
  EXPECT_EQ(h->flags(), 0u);
  ASSERT_EQ(h->exemplars_size(), 1);
  EXPECT_EQ(h->exemplars(0).trace_id(), std::string(16, '\x4b'));
  EXPECT_EQ(h->exemplars(0).span_id(), std::string(8, '\x4c'));
  EXPECT_DOUBLE_EQ(h->exemplars(0).as_double(), 0.0015);
  EXPECT_EQ(h->exemplars(0).time_unix_nano(), 1'700'000'000'000'000'000u);

  // Counters: monotonic cumulative Sums of ints.
  auto counter = [&](const std::string& name, const std::string& attrs, int64_t value,
                     const std::string& unit) {
    SCOPED_TRACE(name);
    const otlp::Metric& metric = metrics[name];
    EXPECT_EQ(metric.unit(), unit);
    ASSERT_TRUE(metric.has_sum());
    EXPECT_TRUE(metric.sum().is_monotonic());
    EXPECT_EQ(metric.sum().aggregation_temporality(), otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
    const otlp::NumberDataPoint* point = Point(metric, attrs);
    ASSERT_NE(point, nullptr);
    EXPECT_EQ(point->value_case(), otlp::NumberDataPoint::kAsInt);
    EXPECT_EQ(point->as_int(), value);
    EXPECT_EQ(point->time_unix_nano(), now);
    EXPECT_GT(point->start_time_unix_nano(), 0u);
    EXPECT_LE(point->start_time_unix_nano(), now);
  };
  counter("rpc.server.calls.started", get, 4, "{call}");
  counter("rpc.server.calls.handled", get + "rpc.response.status_code=\"OK\";", 1, "{call}");
  counter("rpc.server.calls.handled", get + "rpc.response.status_code=\"NOT_FOUND\";", 1, "{call}");
  counter("rpc.server.calls.handled",
          get + "rpc.response.status_code=\"UNAVAILABLE\";error.type=\"UNAVAILABLE\";", 1,
          "{call}");
  counter("rpc.server.messages.received", get, 1, "{message}");
  counter("rpc.server.messages.sent", get, 1, "{message}");
  counter("rpc.server.request.bytes", get, 12, "By");
  counter("rpc.server.response.bytes", get, 40, "By");
  counter("rpc.client.messages.received",
          "rpc.system.name=\"grpc\";rpc.method=\"shop.Stock/Reserve\";", 4, "{message}");
  const std::string route = "http.request.method=\"GET\";http.route=\"/orders/:id\";";
  counter("http.server.requests.handled",
          route + "http.response.status_code=503;error.type=\"503\";", 1, "{request}");
  EXPECT_EQ(metrics.count("http.server.messages.received"), 0u);

  // Message sizes: explicit-bucket histograms in bytes, whatever the
  // latency aggregation; the client series has them too (empty: its
  // messages' sizes were not known), HTTP series have none.
  for (const char* name : {"rpc.server.request.size", "rpc.server.response.size",
                           "rpc.client.request.size", "rpc.client.response.size"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(metrics[name].has_histogram());
    EXPECT_EQ(metrics[name].unit(), "By");
    EXPECT_FALSE(metrics[name].description().empty());
    EXPECT_EQ(metrics[name].histogram().aggregation_temporality(),
              otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
    ASSERT_EQ(metrics[name].histogram().data_points_size(), 1);
    EXPECT_EQ(metrics[name].histogram().data_points(0).time_unix_nano(), now);
  }
  ExpectSizes(ExplicitPoint(metrics["rpc.server.request.size"], get), {{16, 1}}, 12);
  ExpectSizes(ExplicitPoint(metrics["rpc.server.response.size"], get), {{64, 1}}, 40);
  ExpectSizes(ExplicitPoint(metrics["rpc.client.response.size"],
                            "rpc.system.name=\"grpc\";rpc.method=\"shop.Stock/Reserve\";"),
              {}, 0);
  EXPECT_EQ(metrics.count("http.server.request.size"), 0u);

  // In flight: a Gauge.
  const otlp::Metric& in_flight = metrics["rpc.server.calls.in_flight"];
  ASSERT_TRUE(in_flight.has_gauge());
  ASSERT_NE(Point(in_flight, get), nullptr);
  EXPECT_EQ(Point(in_flight, get)->as_int(), 1);
  EXPECT_EQ(metrics["http.server.active_requests"].gauge().data_points(0).as_int(), 0);

  // Collector families: counters lose `_total`, count from the registry's start.
  const otlp::Metric& dropped = metrics["tracebridge_spans_dropped"];
  ASSERT_TRUE(dropped.has_sum());
  EXPECT_TRUE(dropped.sum().is_monotonic());
  EXPECT_EQ(dropped.description(), "Spans dropped, by reason.");
  const otlp::NumberDataPoint* drop = Point(dropped, "reason=\"queue_full\";");
  ASSERT_NE(drop, nullptr);
  EXPECT_EQ(drop->as_double(), 3);
  EXPECT_EQ(drop->start_time_unix_nano(), static_cast<uint64_t>(snapshot.start_unix_nanos));
  ASSERT_TRUE(metrics["tracebridge_span_queue_length"].has_gauge());
  EXPECT_EQ(metrics["tracebridge_span_queue_length"].gauge().data_points(0).as_double(), 7);

  // Every series once per figure: 3 series × (1 histogram + 5 counters + 1
  // gauge) less HTTP's 2 message counters, 3 + 1 + 1 status points, 2 families,
  // and 2 gRPC series × 2 size histograms.
  EXPECT_EQ(points, 3u * 7 - 2 + 5 + 2 + 4);
  // The request survives the wire.
  collector::ExportMetricsServiceRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(request.SerializeAsString()));
  EXPECT_EQ(parsed.SerializeAsString(), request.SerializeAsString());
}

TEST(OtlpMetricsEncoderTest, GrpcPrometheusNames) {
  RegistryOptions options;
  options.naming = MetricsNaming::kGrpcPrometheus;
  Recorded recorded(options);
  collector::ExportMetricsServiceRequest request;
  FillOtlpMetricsRequest(TestResource(), recorded.registry.Snapshot(), nullptr, {}, &request);
  std::map<std::string, otlp::Metric> metrics = ByName(request);
  const std::string get = "grpc_type=\"unary\";grpc_service=\"shop.Orders\";grpc_method=\"Get\";";
  ASSERT_TRUE(metrics.count("grpc_server_handling_seconds"));
  EXPECT_EQ(metrics["grpc_server_handling_seconds"].unit(), "s");
  EXPECT_NE(ExpPoint(metrics["grpc_server_handling_seconds"], get), nullptr);
  ASSERT_NE(Point(metrics["grpc_server_handled"], get + "grpc_code=\"Unavailable\";"), nullptr);
  EXPECT_EQ(Point(metrics["grpc_server_started"], get)->as_int(), 4);
  EXPECT_EQ(Point(metrics["grpc_client_msg_received"],
                  "grpc_type=\"server_stream\";grpc_service=\"shop.Stock\";"
                  "grpc_method=\"Reserve\";")
                ->as_int(),
            4);
  // What go-grpc-prometheus lacks keeps its otel name and labels; HTTP too.
  EXPECT_EQ(Point(metrics["rpc.server.request.bytes"],
                  "rpc.system.name=\"grpc\";rpc.method=\"shop.Orders/Get\";")
                ->as_int(),
            12);
  EXPECT_TRUE(metrics.count("http.server.request.duration"));
  EXPECT_FALSE(metrics.count("rpc.server.call.duration"));
  // Sizes under the names go-grpc-prometheus' style gives them.
  EXPECT_EQ(metrics["grpc_server_msg_received_bytes"].unit(), "By");
  ExpectSizes(ExplicitPoint(metrics["grpc_server_msg_received_bytes"], get), {{16, 1}}, 12);
  ExpectSizes(ExplicitPoint(metrics["grpc_server_msg_sent_bytes"], get), {{64, 1}}, 40);
  EXPECT_FALSE(metrics.count("rpc.server.request.size"));
}

TEST(OtlpMetricsEncoderTest, DeltaSendsTheChangeSinceTheLastDelivery) {
  Recorded recorded;
  const MetricsSnapshot first = recorded.registry.Snapshot();
  // Between the two collections: one more OK call of 1.5 ms (with a newer
  // exemplar), 3 messages, and a new series.
  recorded.get->Start();
  const Exemplar newer = SampledCall(0x77, first.unix_nanos + 1'000'000'000);
  recorded.get->Finish(0, 1'500'000, &newer);
  recorded.get->AddMessagesReceived(3);
  recorded.get->RecordMessageReceived(0);
  recorded.get->RecordMessageReceived(4096);
  Series* fresh = recorded.registry.RegisterGrpcMethod(Side::kServer, "shop.Orders", "New");
  fresh->Start();
  fresh->Finish(0, 1000);
  recorded.dropped = 10;
  const MetricsSnapshot second = recorded.registry.Snapshot();

  OtlpMetricsEncoding delta;
  delta.temporality = OtlpTemporality::kDelta;
  collector::ExportMetricsServiceRequest request;
  FillOtlpMetricsRequest(TestResource(), second, &first, delta, &request);
  std::map<std::string, otlp::Metric> metrics = ByName(request);
  const std::string get = "rpc.system.name=\"grpc\";rpc.method=\"shop.Orders/Get\";";

  const otlp::Metric& started = metrics["rpc.server.calls.started"];
  EXPECT_EQ(started.sum().aggregation_temporality(), otlp::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_TRUE(started.sum().is_monotonic());
  EXPECT_EQ(Point(started, get)->as_int(), 1);
  EXPECT_EQ(Point(started, get)->start_time_unix_nano(), static_cast<uint64_t>(first.unix_nanos));
  EXPECT_EQ(Point(started, get)->time_unix_nano(), static_cast<uint64_t>(second.unix_nanos));
  EXPECT_EQ(Point(metrics["rpc.server.messages.received"], get)->as_int(), 5);
  EXPECT_EQ(metrics["rpc.server.request.size"].histogram().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_DELTA);
  ExpectSizes(ExplicitPoint(metrics["rpc.server.request.size"], get), {{0, 1}, {4096, 1}}, 4096);
  ExpectSizes(ExplicitPoint(metrics["rpc.server.response.size"], get), {}, 0);
  EXPECT_EQ(Point(metrics["rpc.server.calls.handled"], get + "rpc.response.status_code=\"OK\";")
                ->as_int(),
            1);
  EXPECT_EQ(
      Point(metrics["rpc.server.calls.handled"], get + "rpc.response.status_code=\"NOT_FOUND\";")
          ->as_int(),
      0);
  // A series registered since the last delivery counts from its creation.
  const std::string fresh_attrs = "rpc.system.name=\"grpc\";rpc.method=\"shop.Orders/New\";";
  EXPECT_EQ(Point(started, fresh_attrs)->as_int(), 1);
  EXPECT_EQ(Point(started, fresh_attrs)->start_time_unix_nano(),
            static_cast<uint64_t>(fresh->start_unix_nanos()));

  const otlp::Metric& duration = metrics["rpc.server.call.duration"];
  EXPECT_EQ(duration.exponential_histogram().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_DELTA);
  const auto* h = ExpPoint(duration, get);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count(), 1u);
  EXPECT_EQ(h->zero_count(), 0u);
  EXPECT_DOUBLE_EQ(h->sum(), 0.0015);
  EXPECT_EQ(h->positive().offset(), LatencyIndex(1'500'000));
  ASSERT_EQ(h->positive().bucket_counts_size(), 1);
  EXPECT_EQ(h->positive().bucket_counts(0), 1u);
  EXPECT_FALSE(h->has_min());  // neither extreme moved in the interval
  // Only the interval's exemplar.
  ASSERT_EQ(h->exemplars_size(), 1);
  EXPECT_EQ(h->exemplars(0).trace_id(), std::string(16, '\x77'));

  // In flight stays a gauge of the present.
  EXPECT_EQ(Point(metrics["rpc.server.calls.in_flight"], get)->as_int(), 1);
  // Collector counters too, under delta.
  const otlp::NumberDataPoint* drop =
      Point(metrics["tracebridge_spans_dropped"], "reason=\"queue_full\";");
  EXPECT_EQ(metrics["tracebridge_spans_dropped"].sum().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_EQ(drop->as_double(), 7);
  EXPECT_EQ(drop->start_time_unix_nano(), static_cast<uint64_t>(first.unix_nanos));

  // lowmemory: the same for series, but collector counters (read at
  // collection, like asynchronous counters) stay cumulative.
  delta.temporality = OtlpTemporality::kLowMemory;
  request.Clear();
  FillOtlpMetricsRequest(TestResource(), second, &first, delta, &request);
  metrics = ByName(request);
  EXPECT_EQ(Point(metrics["rpc.server.calls.started"], get)->as_int(), 1);
  EXPECT_EQ(metrics["tracebridge_spans_dropped"].sum().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(Point(metrics["tracebridge_spans_dropped"], "reason=\"queue_full\";")->as_double(), 10);

  // The first delta (nothing delivered yet) counts from each series' start.
  request.Clear();
  delta.temporality = OtlpTemporality::kDelta;
  FillOtlpMetricsRequest(TestResource(), first, nullptr, delta, &request);
  metrics = ByName(request);
  EXPECT_EQ(metrics["rpc.server.calls.started"].sum().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_EQ(Point(metrics["rpc.server.calls.started"], get)->as_int(), 4);
}

TEST(OtlpMetricsEncoderTest, ExplicitBucketsAreTheClassicBounds) {
  Recorded recorded;
  recorded.get->Start();
  recorded.get->Finish(0, 300'000'000'000);  // over 256 s: +Inf
  const MetricsSnapshot snapshot = recorded.registry.Snapshot();
  OtlpMetricsEncoding encoding;
  encoding.histograms = OtlpHistogramAggregation::kExplicitBuckets;
  collector::ExportMetricsServiceRequest request;
  FillOtlpMetricsRequest(TestResource(), snapshot, nullptr, encoding, &request);
  std::map<std::string, otlp::Metric> metrics = ByName(request);
  const otlp::Metric& duration = metrics["rpc.server.call.duration"];
  ASSERT_TRUE(duration.has_histogram());
  EXPECT_EQ(duration.histogram().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
  const otlp::HistogramDataPoint* point = nullptr;
  for (const auto& p : duration.histogram().data_points()) {
    if (Attrs(p.attributes()) == "rpc.system.name=\"grpc\";rpc.method=\"shop.Orders/Get\";") {
      point = &p;
    }
  }
  ASSERT_NE(point, nullptr);
  ASSERT_EQ(point->explicit_bounds_size(), kClassicLatencyNumBounds);
  EXPECT_EQ(point->explicit_bounds(0), std::ldexp(1.0, -20));
  EXPECT_EQ(point->explicit_bounds(kClassicLatencyNumBounds - 1), 256.0);
  ASSERT_EQ(point->bucket_counts_size(), kClassicLatencyNumBuckets);
  const std::array<uint64_t, kClassicLatencyNumBuckets> expected =
      ClassicLatencyCounts(snapshot.series[0].latency, snapshot.series[0].latency_overflow);
  uint64_t total = 0;
  for (int b = 0; b < kClassicLatencyNumBuckets; ++b) {
    EXPECT_EQ(point->bucket_counts(b), expected[b]) << b;
    total += point->bucket_counts(b);
  }
  EXPECT_EQ(total, point->count());
  EXPECT_EQ(point->bucket_counts(kClassicLatencyNumBuckets - 1), 1u);
  EXPECT_EQ(point->bucket_counts(0), 1u);  // the 500 ns call
  EXPECT_DOUBLE_EQ(point->max(), 300);
  EXPECT_EQ(point->exemplars_size(), 1);
}

// ---- options ----

OtlpExporterOptions::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> absl::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return absl::nullopt;
    return it->second;
  };
}

TEST(OtlpMetricExporterOptionsTest, MetricsVariablesWinOverGenericOnes) {
  auto options = OtlpMetricExporterOptions::FromEnvironment(Env({}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->otlp.protocol, OtlpProtocol::kGrpc);
  EXPECT_EQ(options->encoding.temporality, OtlpTemporality::kCumulative);
  EXPECT_EQ(options->encoding.histograms, OtlpHistogramAggregation::kExponential);

  options = OtlpMetricExporterOptions::FromEnvironment(Env({
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
      {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/base"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "a=1"},
      {"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "b=2"},
      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "c=3"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "9000"},
      {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "1500"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
      {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"},
      {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "explicit_bucket_histogram"},
  }));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->otlp.protocol, OtlpProtocol::kHttpProtobuf);
  EXPECT_EQ(options->otlp.endpoint, "http://collector:4318/base/v1/metrics");
  ASSERT_EQ(options->otlp.headers.size(), 1u);
  EXPECT_EQ(options->otlp.headers[0].key, "b");
  EXPECT_EQ(options->otlp.timeout, absl::Milliseconds(1500));
  EXPECT_EQ(options->otlp.compression, OtlpCompression::kGzip);
  EXPECT_EQ(options->encoding.temporality, OtlpTemporality::kDelta);
  EXPECT_EQ(options->encoding.histograms, OtlpHistogramAggregation::kExplicitBuckets);

  // The signal's own endpoint is used as it is.
  options = OtlpMetricExporterOptions::FromEnvironment(
      Env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
           {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:9999/custom"},
           {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:1"},
           {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", " "}}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->otlp.endpoint, "http://collector:9999/custom");
  EXPECT_EQ(options->encoding.temporality, OtlpTemporality::kCumulative);

  options = OtlpMetricExporterOptions::FromEnvironment(
      Env({{"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "lowmemory"}}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->encoding.temporality, OtlpTemporality::kLowMemory);
}

TEST(OtlpMetricExporterOptionsTest, MalformedValuesNameTheirVariable) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "sometimes"},
           {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "summary"},
           {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"},
           {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "soon"},
       }) {
    auto options = OtlpMetricExporterOptions::FromEnvironment(Env({{name, value}}));
    ASSERT_FALSE(options.ok()) << name;
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(options.status().message(), name)) << options.status();
  }
}

TEST(OtlpMetricExporterOptionsTest, DefaultHttpEndpointIsV1Metrics) {
  OtlpMetricExporterOptions options;
  options.otlp.protocol = OtlpProtocol::kHttpProtobuf;
  auto exporter = OtlpMetricExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  EXPECT_EQ((*exporter)->destination(), "http://localhost:4318/v1/metrics");
  EXPECT_EQ((*exporter)->Name(), "otlp_http");
  options.otlp.protocol = OtlpProtocol::kGrpc;
  exporter = OtlpMetricExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  EXPECT_EQ((*exporter)->destination(), "localhost:4317");
  EXPECT_EQ((*exporter)->Name(), "otlp");
}

using testing::ScopedEnv;

TEST(OtlpMetricExporterOptionsTest, MetricsExporterVariable) {
  {
    auto none = MetricExporterFromEnvironment();
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, nullptr);
  }
  for (const char* value : {"none", "prometheus", "", " none "}) {
    ScopedEnv env("OTEL_METRICS_EXPORTER", value);
    auto none = MetricExporterFromEnvironment();
    ASSERT_TRUE(none.ok()) << value;
    EXPECT_EQ(*none, nullptr) << value;
  }
  {
    ScopedEnv env("OTEL_METRICS_EXPORTER", "otlp,prometheus");
    ScopedEnv protocol("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf");
    auto otlp = MetricExporterFromEnvironment();
    ASSERT_TRUE(otlp.ok()) << otlp.status();
    ASSERT_NE(*otlp, nullptr);
    EXPECT_EQ((*otlp)->Name(), "otlp_http");
  }
  for (const char* value : {"console", "otlp,otlp", "zipkin"}) {
    ScopedEnv env("OTEL_METRICS_EXPORTER", value);
    auto bad = MetricExporterFromEnvironment();
    ASSERT_FALSE(bad.ok()) << value;
    EXPECT_TRUE(absl::StrContains(bad.status().message(), "OTEL_METRICS_EXPORTER"));
  }
}

// ---- the exporter over OTLP/gRPC ----

OtlpMetricExporterOptions GrpcTo(const testing::OtlpReceiver& receiver) {
  OtlpMetricExporterOptions options;
  options.otlp.endpoint = receiver.address();
  options.otlp.retry.initial_backoff = absl::Milliseconds(5);
  options.otlp.retry.max_backoff = absl::Milliseconds(20);
  options.otlp.headers.push_back({"x-tenant", "blue"});
  options.otlp.compression = OtlpCompression::kGzip;
  return options;
}

TEST(OtlpMetricExporterTest, GrpcRetriesAndCountsPartialSuccess) {
  auto receiver = testing::OtlpReceiver::Start();
  ASSERT_TRUE(receiver.ok());
  (*receiver)->Script(
      {{.code = grpc::StatusCode::UNAVAILABLE, .retry_delay = absl::Milliseconds(1)},
       {.rejected_spans = 2, .partial_error = "2 points too old"}});
  auto exporter = OtlpMetricExporter::Create(GrpcTo(**receiver));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  Recorded recorded;
  const MetricsSnapshot snapshot = recorded.registry.Snapshot();
  ASSERT_TRUE((*exporter)->Export(TestResource(), snapshot, absl::Now() + absl::Seconds(20)).ok());
  const auto calls = (*receiver)->ReceivedMetrics();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].answered, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(calls[1].answered, grpc::StatusCode::OK);
  // What arrived is exactly what the mapping builds.
  collector::ExportMetricsServiceRequest expected;
  const size_t points = FillOtlpMetricsRequest(TestResource(), snapshot, nullptr, {}, &expected);
  EXPECT_EQ(calls[1].request.SerializeAsString(), expected.SerializeAsString());
  auto tenant = calls[1].metadata.find("x-tenant");
  ASSERT_NE(tenant, calls[1].metadata.end());
  EXPECT_EQ(tenant->second, "blue");
  const OtlpExportCounts stats = (*exporter)->Stats();
  EXPECT_EQ(stats.batches_exported, 1u);
  EXPECT_EQ(stats.items_exported, points);
  EXPECT_EQ(stats.retries, 1u);
  EXPECT_EQ(stats.items_rejected, 2u);
  EXPECT_EQ((*exporter)->last_partial_success_message(), "2 points too old");

  // Not retryable: failed at once, counted in data points.
  (*receiver)->Script({{.code = grpc::StatusCode::INVALID_ARGUMENT, .message = "bad"}});
  const absl::Status failed =
      (*exporter)->Export(TestResource(), snapshot, absl::Now() + absl::Seconds(20));
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*exporter)->Stats().items_failed, points);
  EXPECT_EQ((*receiver)->metrics_calls(), 3u);
  // No span call went to the trace service.
  EXPECT_EQ((*receiver)->calls(), 0u);
}

// Under delta, an export the server refused is folded into the next one.
TEST(OtlpMetricExporterTest, DeltaCarriesAFailedIntervalIntoTheNext) {
  auto receiver = testing::OtlpReceiver::Start();
  ASSERT_TRUE(receiver.ok());
  OtlpMetricExporterOptions options = GrpcTo(**receiver);
  options.encoding.temporality = OtlpTemporality::kDelta;
  auto exporter = OtlpMetricExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "s.S", "M", RpcType::kUnary);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  series->Start();
  const MetricsSnapshot first = registry.Snapshot();
  ASSERT_TRUE((*exporter)->Export(TestResource(), first, deadline).ok());
  series->Start();
  series->Start();
  (*receiver)->Script({{.code = grpc::StatusCode::PERMISSION_DENIED}});
  EXPECT_FALSE((*exporter)->Export(TestResource(), registry.Snapshot(), deadline).ok());
  series->Start();
  ASSERT_TRUE((*exporter)->Export(TestResource(), registry.Snapshot(), deadline).ok());
  const auto calls = (*receiver)->ReceivedMetrics();
  ASSERT_EQ(calls.size(), 3u);
  auto started = [](const collector::ExportMetricsServiceRequest& request) {
    for (const otlp::Metric& metric : request.resource_metrics(0).scope_metrics(0).metrics()) {
      if (metric.name() == "rpc.server.calls.started") return metric.sum().data_points(0);
    }
    return otlp::NumberDataPoint();
  };
  EXPECT_EQ(started(calls[0].request).as_int(), 1);
  EXPECT_EQ(started(calls[2].request).as_int(), 3);  // the refused 2 and the new 1
  EXPECT_EQ(started(calls[2].request).start_time_unix_nano(),
            static_cast<uint64_t>(first.unix_nanos));
}

// A traced server's own metrics through Telemetry's reader, to the receiver,
// at Shutdown: the interceptors' series with how each method streams.
TEST(OtlpMetricExporterTest, ATracedServerPushesItsMetricsAtShutdown) {
  auto receiver = testing::OtlpReceiver::Start();
  ASSERT_TRUE(receiver.ok());
  for (MetricsNaming naming : {MetricsNaming::kOtel, MetricsNaming::kGrpcPrometheus}) {
    SCOPED_TRACE(MetricsNamingName(naming));
    const size_t before = (*receiver)->metrics_calls();
    auto exporter = OtlpMetricExporter::Create(GrpcTo(**receiver));
    ASSERT_TRUE(exporter.ok());
    MetricReaderOptions reader;
    reader.interval = absl::Hours(1);  // only the final push
    std::unique_ptr<Telemetry> telemetry =
        testing::MakeTestTelemetry("pusher", testing::kAllPropagators, [&](TelemetryBuilder& b) {
          b.SetMetricsNaming(naming)
              .AddMetricExporter(*std::move(exporter))
              .SetMetricReaderOptions(reader);
        });
    testing::EchoServiceImpl service;
    {
      testing::TracedServer server = testing::StartTracedServer(*telemetry, {&service});
      auto stub = testing::Echo::NewStub(
          CreateTracedChannel(server.address(), grpc::InsecureChannelCredentials(), *telemetry));
      grpc::ClientContext unary;
      unary.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
      testing::EchoRequest request;
      testing::EchoResponse response;
      ASSERT_TRUE(stub->Unary(&unary, request, &response).ok());
      grpc::ClientContext streaming;
      streaming.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
      request.set_count(3);
      auto reader_stream = stub->ServerStream(&streaming, request);
      int received = 0;
      while (reader_stream->Read(&response)) ++received;
      ASSERT_TRUE(reader_stream->Finish().ok());
      EXPECT_EQ(received, 3);
      testing::WaitForSeries(*telemetry, Side::kServer, "tracebridge.testing.Echo", "ServerStream",
                             1);
    }
    ASSERT_TRUE(telemetry->Shutdown(absl::Seconds(10)).ok());
    ASSERT_EQ((*receiver)->metrics_calls(), before + 1);
    const collector::ExportMetricsServiceRequest request =
        (*receiver)->ReceivedMetrics().back().request;
    std::map<std::string, otlp::Metric> metrics = ByName(request);
    EXPECT_EQ(AttributeList(request.resource_metrics(0).resource().attributes())[0],
              "service.name=\"pusher\"");
    if (naming == MetricsNaming::kOtel) {
      const otlp::Metric& duration = metrics["rpc.server.call.duration"];
      const auto* unary_point = ExpPoint(
          duration, "rpc.system.name=\"grpc\";rpc.method=\"tracebridge.testing.Echo/Unary\";");
      ASSERT_NE(unary_point, nullptr);
      EXPECT_EQ(unary_point->count(), 1u);
      EXPECT_EQ(Point(metrics["rpc.client.calls.handled"],
                      "rpc.system.name=\"grpc\";rpc.method=\"tracebridge.testing.Echo/"
                      "ServerStream\";rpc.response.status_code=\"OK\";")
                    ->as_int(),
                1);
      EXPECT_GE(Point(metrics["tracebridge_spans_ended"], "")->as_double(), 4);
      // The unary request was empty: one message in the 0 bucket; the
      // stream's three responses were each measured on the client.
      ExpectSizes(
          ExplicitPoint(metrics["rpc.server.request.size"],
                        "rpc.system.name=\"grpc\";rpc.method=\"tracebridge.testing.Echo/Unary\";"),
          {{0, 1}}, 0);
      EXPECT_EQ(ExplicitPoint(metrics["rpc.client.response.size"],
                              "rpc.system.name=\"grpc\";rpc.method=\"tracebridge.testing.Echo/"
                              "ServerStream\";")
                    ->count(),
                3u);
    } else {
      const std::string stream =
          "grpc_type=\"server_stream\";grpc_service=\"tracebridge.testing.Echo\";"
          "grpc_method=\"ServerStream\";";
      EXPECT_EQ(Point(metrics["grpc_server_msg_sent"], stream)->as_int(), 3);
      EXPECT_EQ(Point(metrics["grpc_client_msg_received"], stream)->as_int(), 3);
      EXPECT_EQ(Point(metrics["grpc_server_handled"],
                      "grpc_type=\"unary\";grpc_service=\"tracebridge.testing.Echo\";"
                      "grpc_method=\"Unary\";grpc_code=\"OK\";")
                    ->as_int(),
                1);
    }
  }
}

}  // namespace
}  // namespace tracebridge
