// tracebridge's OTLP metrics against an independent implementation, both
// ways (tests/interop/otlp_js_metrics):
//
//   - the OpenTelemetry JS metrics SDK and its OTLP/gRPC metric exporter
//     (send_metrics.js) send a counter, an up-down counter, an exponential
//     and an explicit-bucket histogram and a gauge to our OtlpReceiver, and
//     every value decodes as recorded with our .proto definitions;
//   - our OtlpMetricExporter sends to a receiver (receive_metrics.js) that
//     decodes with the JS OTLP transformer's protobuf code, generated from
//     the upstream opentelemetry-proto files: over OTLP/gRPC, and over
//     OTLP/HTTP with and without gzip, cumulative and delta, exponential and
//     explicit buckets. It reports the figures it decoded, which must be the
//     snapshot's, and re-encodes the request with the same upstream code,
//     which must parse back into exactly what we sent: a field numbered
//     differently from upstream would land elsewhere and fail the
//     comparison.
//
// The JS packages are installed by the test with `npm ci` from the committed
// package-lock.json (see tests/testing/npm_package.h).

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/child_process.h"
#include "tests/testing/npm_package.h"
#include "tests/testing/otlp_receiver.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/exporters/otlp/otlp_metric_exporter.h"
#include "tracebridge/exporters/otlp/otlp_metrics_encoder.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::metrics::v1;
namespace common = ::opentelemetry::proto::common::v1;
namespace otlp = ::opentelemetry::proto::metrics::v1;

constexpr absl::Duration kNodeTimeout = absl::Minutes(1);

class OtlpJsMetricsInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto prepared = testing::PrepareNpmPackage(
        "tests/interop/otlp_js_metrics",
        {"package.json", "package-lock.json", "send_metrics.js", "receive_metrics.js"});
    if (prepared.ok()) {
      package_ = new testing::NodePackage(*std::move(prepared));
    } else {
      error_ = new absl::Status(prepared.status());
    }
  }
  void SetUp() override { ASSERT_NE(package_, nullptr) << *error_; }
  static testing::NodePackage* package_;
  static absl::Status* error_;
};
testing::NodePackage* OtlpJsMetricsInteropTest::package_ = nullptr;
absl::Status* OtlpJsMetricsInteropTest::error_ = nullptr;

std::string Attribute(const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes,
                      absl::string_view key) {
  for (const common::KeyValue& kv : attributes) {
    if (kv.key() == key) return kv.value().string_value();
  }
  return "<absent>";
}

// ---- JS SDK → our receiver ----

TEST_F(OtlpJsMetricsInteropTest, TheJsExporterDecodesWithOurMessages) {
  auto receiver = testing::OtlpReceiver::Start();
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  testing::ProcessResult send = testing::RunProgram(
      {package_->node, "send_metrics.js", std::to_string((*receiver)->port())}, package_->env,
      package_->dir, package_->dir + "/send_metrics.log", kNodeTimeout);
  ASSERT_FALSE(send.timed_out) << send.log;
  ASSERT_EQ(send.exit_code, 0) << send.log;
  // forceFlush and shutdown both exported, and both completed before exit.
  ASSERT_TRUE((*receiver)->WaitForMetricsCalls(2, absl::Seconds(30)));
  const std::vector<testing::ReceivedMetricsExport> calls = (*receiver)->ReceivedMetrics();
  const collector::ExportMetricsServiceRequest& request = calls[0].request;

  ASSERT_EQ(request.resource_metrics_size(), 1);
  const auto& resource = request.resource_metrics(0).resource().attributes();
  EXPECT_EQ(Attribute(resource, "service.name"), "js-metrics-sender");
  EXPECT_EQ(Attribute(resource, "service.version"), "3.2.1");
  ASSERT_EQ(request.resource_metrics(0).scope_metrics_size(), 1);
  const otlp::ScopeMetrics& scope = request.resource_metrics(0).scope_metrics(0);
  EXPECT_EQ(scope.scope().name(), "interop-js-metrics");
  EXPECT_EQ(scope.scope().version(), "1.0.0");
  std::map<std::string, otlp::Metric> metrics;
  for (const otlp::Metric& metric : scope.metrics()) metrics[metric.name()] = metric;
  ASSERT_EQ(metrics.size(), 5u);

  const otlp::Metric& orders = metrics["orders.placed"];
  EXPECT_EQ(orders.description(), "Orders placed.");
  EXPECT_EQ(orders.unit(), "{order}");
  ASSERT_TRUE(orders.has_sum());
  EXPECT_TRUE(orders.sum().is_monotonic());
  EXPECT_EQ(orders.sum().aggregation_temporality(), otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(orders.sum().data_points_size(), 2);
  std::map<std::string, double> by_region;
  for (const otlp::NumberDataPoint& point : orders.sum().data_points()) {
    EXPECT_EQ(point.value_case(), otlp::NumberDataPoint::kAsDouble);
    EXPECT_GT(point.start_time_unix_nano(), 0u);
    EXPECT_GE(point.time_unix_nano(), point.start_time_unix_nano());
    by_region[Attribute(point.attributes(), "shop.region")] = point.as_double();
  }
  EXPECT_EQ(by_region, (std::map<std::string, double>{{"eu", 7}, {"us", 5}}));

  const otlp::Metric& queue = metrics["queue.depth"];
  ASSERT_TRUE(queue.has_sum());
  EXPECT_FALSE(queue.sum().is_monotonic());
  ASSERT_EQ(queue.sum().data_points_size(), 1);
  EXPECT_EQ(queue.sum().data_points(0).as_double(), 6);

  const otlp::Metric& temperature = metrics["temperature"];
  EXPECT_EQ(temperature.unit(), "Cel");
  ASSERT_TRUE(temperature.has_gauge());
  ASSERT_EQ(temperature.gauge().data_points_size(), 1);
  EXPECT_EQ(temperature.gauge().data_points(0).as_double(), 21.5);
  EXPECT_EQ(Attribute(temperature.gauge().data_points(0).attributes(), "room"), "lab");

  // 0, 0.5, 1, 2, 4: at any scale s, 2^k is the top of bucket k·2^s − 1.
  const otlp::Metric& duration = metrics["checkout.duration"];
  EXPECT_EQ(duration.unit(), "s");
  ASSERT_TRUE(duration.has_exponential_histogram());
  EXPECT_EQ(duration.exponential_histogram().aggregation_temporality(),
            otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_EQ(duration.exponential_histogram().data_points_size(), 1);
  const otlp::ExponentialHistogramDataPoint& e = duration.exponential_histogram().data_points(0);
  EXPECT_EQ(Attribute(e.attributes(), "route"), "/checkout");
  EXPECT_EQ(e.count(), 5u);
  EXPECT_EQ(e.sum(), 7.5);
  ASSERT_TRUE(e.has_min() && e.has_max());
  EXPECT_EQ(e.min(), 0);
  EXPECT_EQ(e.max(), 4);
  EXPECT_EQ(e.zero_count(), 1u);
  EXPECT_GE(e.scale(), 0);
  EXPECT_LE(e.scale(), 20);
  const int64_t per_octave = int64_t{1} << e.scale();
  uint64_t in_buckets = 0;
  for (int i = 0; i < e.positive().bucket_counts_size(); ++i) {
    in_buckets += e.positive().bucket_counts(i);
  }
  EXPECT_EQ(in_buckets, 4u);
  for (int k : {-1, 0, 1, 2}) {
    const int64_t at = k * per_octave - 1 - e.positive().offset();
    ASSERT_GE(at, 0) << k;
    ASSERT_LT(at, e.positive().bucket_counts_size()) << k;
    EXPECT_EQ(e.positive().bucket_counts(static_cast<int>(at)), 1u) << "2^" << k;
  }

  const otlp::Metric& size = metrics["payload.size"];
  ASSERT_TRUE(size.has_histogram());
  ASSERT_EQ(size.histogram().data_points_size(), 1);
  const otlp::HistogramDataPoint& h = size.histogram().data_points(0);
  EXPECT_EQ(std::vector<double>(h.explicit_bounds().begin(), h.explicit_bounds().end()),
            (std::vector<double>{10, 100, 1000}));
  EXPECT_EQ(std::vector<uint64_t>(h.bucket_counts().begin(), h.bucket_counts().end()),
            (std::vector<uint64_t>{2, 1, 1, 1}));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 5565);
  EXPECT_EQ(h.min(), 5);
  EXPECT_EQ(h.max(), 5000);
}

// ---- our exporter → the JS OTLP transformer's decoder ----

// What receive_metrics.js printed for one request.
struct Decoded {
  std::string transport;
  std::string encoding;
  collector::ExportMetricsServiceRequest reencoded;
  std::vector<std::string> lines;  // METRIC / EXP / NUM
};

// A registry with gRPC and HTTP series, statuses, an exemplar, streams and a
// collector family.
struct Recording {
  Registry registry;
  Series* get;
  Series* route;
  Recording() {
    get = registry.RegisterGrpcMethod(Side::kServer, "shop.Orders", "Get", RpcType::kUnary);
    route = registry.RegisterHttpRoute(Side::kClient, "POST", "/pay");
    Exemplar exemplar = {};
    for (uint8_t& b : exemplar.trace_id) b = 0x5a;
    for (uint8_t& b : exemplar.span_id) b = 0xa5;
    exemplar.unix_nanos = 1'800'000'000'000'000'000;
    get->Start();
    get->Finish(0, 2'000'000, &exemplar);
    get->Start();
    get->Finish(4, 40'000'000);
    get->Start();
    get->Finish(0, 100);  // zero bucket
    get->AddMessagesReceived(3);
    route->Start();
    route->Finish(402, 7'000'000);
    registry.AddCollector([](std::vector<MetricFamily>* out) {
      out->push_back(
          {"tracebridge_spans_exported_total", "Exported.", MetricType::kCounter, {{{}, 42}}});
    });
  }
};

Resource TestResource() {
  Resource resource;
  resource.service_name = "to-js";
  resource.attributes.push_back({"host.name", std::string("box")});
  return resource;
}

TEST_F(OtlpJsMetricsInteropTest, OurExporterDecodesWithTheUpstreamProtos) {
  auto child = testing::ChildProcess::Start({package_->node, "receive_metrics.js"}, package_->env,
                                            package_->dir, package_->dir + "/receive.log");
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<std::string> listening = (*child)->ReadLine(kNodeTimeout);
  ASSERT_TRUE(listening.ok()) << listening.status()
                              << testing::ReadFileOrEmpty(package_->dir + "/receive.log");
  int grpc_port = 0, http_port = 0;
  for (absl::string_view field : absl::StrSplit(*listening, ' ')) {
    if (absl::ConsumePrefix(&field, "grpc=")) {
      ASSERT_TRUE(absl::SimpleAtoi(field, &grpc_port));
    } else if (absl::ConsumePrefix(&field, "http=")) {
      ASSERT_TRUE(absl::SimpleAtoi(field, &http_port));
    }
  }
  ASSERT_GT(grpc_port, 0) << *listening;
  ASSERT_GT(http_port, 0) << *listening;

  // Four exports, each of its own configuration; what each sent is rebuilt
  // from the same snapshots with the same mapping.
  struct Case {
    OtlpProtocol protocol;
    OtlpCompression compression;
    OtlpMetricsEncoding encoding;
  };
  const Case cases[] = {
      {OtlpProtocol::kGrpc, OtlpCompression::kGzip, {}},
      {OtlpProtocol::kHttpProtobuf, OtlpCompression::kNone, {}},
      {OtlpProtocol::kHttpProtobuf,
       OtlpCompression::kGzip,
       {OtlpTemporality::kDelta, OtlpHistogramAggregation::kExplicitBuckets}},
      {OtlpProtocol::kGrpc, OtlpCompression::kNone, {OtlpTemporality::kDelta, {}}},
  };
  Recording recording;
  std::vector<collector::ExportMetricsServiceRequest> sent;
  std::vector<MetricsSnapshot> snapshots;
  for (const Case& c : cases) {
    OtlpMetricExporterOptions options;
    options.otlp.protocol = c.protocol;
    options.otlp.compression = c.compression;
    options.otlp.endpoint = c.protocol == OtlpProtocol::kGrpc
                                ? absl::StrCat("127.0.0.1:", grpc_port)
                                : absl::StrCat("http://127.0.0.1:", http_port, "/v1/metrics");
    options.encoding = c.encoding;
    auto exporter = OtlpMetricExporter::Create(options);
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    // Delta: a first export sets the base, then more calls, then the one
    // compared.
    const MetricsSnapshot base = recording.registry.Snapshot();
    const bool delta = c.encoding.temporality != OtlpTemporality::kCumulative;
    if (delta) {
      ASSERT_TRUE((*exporter)->Export(TestResource(), base, absl::Now() + absl::Seconds(20)).ok());
      recording.get->Start();
      recording.get->Finish(5, 3'000'000);
    }
    snapshots.push_back(recording.registry.Snapshot());
    const absl::Status status =
        (*exporter)->Export(TestResource(), snapshots.back(), absl::Now() + absl::Seconds(20));
    ASSERT_TRUE(status.ok()) << status;
    if (delta) {
      collector::ExportMetricsServiceRequest first;
      FillOtlpMetricsRequest(TestResource(), base, nullptr, c.encoding, &first);
      sent.push_back(first);
    }
    collector::ExportMetricsServiceRequest request;
    FillOtlpMetricsRequest(TestResource(), snapshots.back(), delta ? &base : nullptr, c.encoding,
                           &request);
    sent.push_back(request);
  }
  (*child)->CloseStdin();

  // Read everything the receiver printed.
  std::vector<Decoded> decoded;
  for (;;) {
    absl::StatusOr<std::string> line = (*child)->ReadLine(kNodeTimeout);
    if (!line.ok()) break;
    ASSERT_FALSE(absl::StartsWith(*line, "UNDECODABLE")) << *line;
    if (absl::StartsWith(*line, "REQUEST ")) {
      std::vector<std::string> parts = absl::StrSplit(*line, ' ');
      ASSERT_EQ(parts.size(), 4u) << *line;
      Decoded d;
      d.transport = parts[1];
      d.encoding = parts[2];
      std::string bytes;
      ASSERT_TRUE(absl::Base64Unescape(parts[3], &bytes));
      ASSERT_TRUE(d.reencoded.ParseFromString(bytes));
      decoded.push_back(std::move(d));
    } else if (!decoded.empty() && *line != "END") {
      decoded.back().lines.push_back(*line);
    }
  }
  const testing::ProcessResult result = (*child)->Wait(kNodeTimeout);
  EXPECT_EQ(result.exit_code, 0) << result.log;
  ASSERT_EQ(decoded.size(), sent.size());

  const std::vector<std::string> transports = {"grpc", "http", "http", "http", "grpc", "grpc"};
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(decoded[i].transport, transports[i]);
    std::string difference;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&difference);
    EXPECT_TRUE(differencer.Compare(sent[i], decoded[i].reencoded)) << difference;
  }
  EXPECT_EQ(decoded[2].encoding, "gzip");  // the delta base over HTTP with gzip
  EXPECT_EQ(decoded[1].encoding, "identity");

  // What the upstream decoder read, against the first snapshot directly.
  const SeriesSnapshot& get = snapshots[0].series[0];
  ASSERT_EQ(get.name, "Get");
  const ExponentialHistogram& latency = get.latency;
  std::string counts;
  for (size_t k = 0; k < latency.bucket_counts.size(); ++k) {
    absl::StrAppend(&counts, k == 0 ? "" : ",", latency.bucket_counts[k]);
  }
  const std::string expected_exp = absl::StrCat(
      "EXP rpc.server.call.duration {\"rpc.system.name\":\"grpc\",\"rpc.method\":\"shop.Orders/"
      "Get\"} count=3 sum=0.0420001 min=1e-7 max=0.04 scale=5 zero_count=1 "
      "zero_threshold=9.5367431640625e-7 offset=",
      latency.offset, " counts=", counts, " exemplars=1 start=", get.start_unix_nanos,
      " time=", snapshots[0].unix_nanos);
  const std::vector<std::string>& lines = decoded[0].lines;
  EXPECT_NE(std::find(lines.begin(), lines.end(), expected_exp), lines.end())
      << expected_exp << "\nnot in:\n"
      << absl::StrJoin(lines, "\n");
  auto has = [&](const std::string& prefix) {
    for (const std::string& line : lines) {
      if (absl::StartsWith(line, prefix)) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("METRIC rpc.server.call.duration s exponentialHistogram 2 - 1"));
  EXPECT_TRUE(has("METRIC rpc.server.calls.handled {call} sum 2 true 2"));
  EXPECT_TRUE(
      has("NUM rpc.server.calls.handled {\"rpc.system.name\":\"grpc\",\"rpc.method\":"
          "\"shop.Orders/Get\",\"rpc.response.status_code\":\"DEADLINE_EXCEEDED\","
          "\"error.type\":\"DEADLINE_EXCEEDED\"} value=1 "));
  EXPECT_TRUE(
      has("NUM rpc.server.messages.received {\"rpc.system.name\":\"grpc\",\"rpc.method\":"
          "\"shop.Orders/Get\"} value=3 "));
  EXPECT_TRUE(
      has("NUM http.client.requests.handled {\"http.request.method\":\"POST\","
          "\"http.route\":\"/pay\",\"http.response.status_code\":402,\"error.type\":"
          "\"402\"} value=1 "));
  EXPECT_TRUE(has("METRIC rpc.server.calls.in_flight {call} gauge - - 1"));
  EXPECT_TRUE(has("NUM tracebridge_spans_exported {} value=42 "));
  // The delta over HTTP with explicit buckets: a Histogram, temporality 1.
  EXPECT_NE(std::find(decoded[3].lines.begin(), decoded[3].lines.end(),
                      "METRIC rpc.server.call.duration s histogram 1 - 1"),
            decoded[3].lines.end())
      << absl::StrJoin(decoded[3].lines, "\n");
}

}  // namespace
}  // namespace tracebridge
