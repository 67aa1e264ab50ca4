// Progress of long-lived gRPC streams over real connections: interval events
// on an idle stream, exact message-count events, child spans visible while
// the stream is open, the in-flight age through the query RPC and /rpcz
// while it is open, a stream ending while the timer fires, and nothing at
// all when progress is off (the default).

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/stream_monitor.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::Echo;
using ::tracebridge::testing::EchoRequest;
using ::tracebridge::testing::EchoResponse;
using ::tracebridge::testing::PollUntil;

constexpr char kBidi[] = "tracebridge.testing.Echo/BidiStream";
constexpr absl::Duration kInterval = absl::Milliseconds(50);

class StreamProgressTest : public ::testing::Test {
 protected:
  void Start(StreamProgressOptions progress, bool configure = true) {
    telemetry_ = testing::MakeTestTelemetry("streams", testing::kAllPropagators,
                                            [&](TelemetryBuilder& builder) {
                                              if (configure) builder.SetStreamProgress(progress);
                                            });
    server_ = testing::StartTracedServer(*telemetry_, {&echo_});
    stub_ = Echo::NewStub(
        CreateTracedChannel(server_.address(), grpc::InsecureChannelCredentials(), *telemetry_));
    query_ = v1::Query::NewStub(
        grpc::CreateChannel(server_.admin_grpc_address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_.server != nullptr) server_.server->Shutdown(testing::DeadlineIn(absl::Seconds(5)));
  }

  // One request, one reply on an open bidi stream.
  static void RoundTrip(grpc::ClientReaderWriter<EchoRequest, EchoResponse>& stream) {
    EchoRequest request;
    request.set_message("ping");
    ASSERT_TRUE(stream.Write(request));
    EchoResponse response;
    ASSERT_TRUE(stream.Read(&response));
  }

  // The server-side series of the bidi method as the query RPC sees it.
  v1::SeriesMetrics QuerySeries() {
    v1::GetMetricsRequest request;
    request.set_side(v1::SIDE_SERVER);
    request.set_name_prefix(kBidi);
    v1::GetMetricsResponse response;
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(5)));
    grpc::Status status = query_->GetMetrics(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.series_size() == 1 ? response.series(0) : v1::SeriesMetrics();
  }

  std::vector<SpanData> SpansNamed(const std::string& name, SpanKind kind) {
    std::vector<SpanData> spans;
    for (const StoredSpan& stored : telemetry_->span_store()->MostRecent(1000)) {
      if (stored.span->name == name && stored.span->kind == kind) spans.push_back(*stored.span);
    }
    return spans;
  }

  // The stream's ended span of `kind`, waiting for it.
  SpanData EndedStreamSpan(SpanKind kind, const std::string& name = kBidi) {
    std::vector<SpanData> spans;
    PollUntil([&] { return !(spans = SpansNamed(name, kind)).empty(); }, absl::Seconds(10));
    EXPECT_EQ(spans.size(), 1u);
    return spans.empty() ? SpanData() : spans[0];
  }

  testing::EchoServiceImpl echo_;
  std::unique_ptr<Telemetry> telemetry_;
  testing::TracedServer server_;
  std::unique_ptr<Echo::Stub> stub_;
  std::unique_ptr<v1::Query::Stub> query_;
};

std::vector<const SpanEvent*> ProgressEvents(const SpanData& span) {
  std::vector<const SpanEvent*> events;
  for (const SpanEvent& event : span.events) {
    if (event.name == kStreamProgressEvent) events.push_back(&event);
  }
  return events;
}

int64_t IntAttribute(absl::Span<const Attribute> attributes, absl::string_view key) {
  for (const Attribute& attribute : attributes) {
    if (attribute.key == key) return absl::get<int64_t>(attribute.value);
  }
  ADD_FAILURE() << "no attribute " << key;
  return -1;
}

std::string StringAttribute(absl::Span<const Attribute> attributes, absl::string_view key) {
  for (const Attribute& attribute : attributes) {
    if (attribute.key == key) return absl::get<std::string>(attribute.value);
  }
  return "";
}

// The number after `"key":` following `anchor` in `text`; -1 when absent.
double JsonNumberAfter(const std::string& text, const std::string& anchor, const std::string& key) {
  const size_t at = text.find(anchor);
  if (at == std::string::npos) return -1;
  const size_t field = text.find("\"" + key + "\":", at);
  if (field == std::string::npos) return -1;
  const char* start = text.c_str() + field + key.size() + 3;
  char* end = nullptr;
  const double value = std::strtod(start, &end);
  return end == start ? -1 : value;
}

TEST_F(StreamProgressTest, IdleStreamGetsIntervalEventsAndShowsItsAgeWhileOpen) {
  StreamProgressOptions progress;
  progress.interval = kInterval;
  Start(progress);

  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  auto stream = stub_->BidiStream(&context);
  RoundTrip(*stream);
  // Events recorded during the round trip (a slow machine may see some):
  // the ones after them count an idle stream.
  std::vector<InFlightStream> watched = telemetry_->streams().InFlight(10);
  ASSERT_EQ(watched.size(), 2u);
  uint64_t before[2] = {0, 0};
  for (const InFlightStream& w : watched) before[static_cast<int>(w.side)] = w.progress_events;

  // Idle now: the timer alone must bring three more events on each side
  // while the stream is open; the query RPC sees them and the stream's age.
  v1::SeriesMetrics series;
  ASSERT_TRUE(PollUntil(
      [&] {
        for (const InFlightStream& w : telemetry_->streams().InFlight(10)) {
          if (w.progress_events < before[static_cast<int>(w.side)] + 3) return false;
        }
        series = QuerySeries();
        return series.in_flight_streams_size() == 1 &&
               series.in_flight_streams(0).progress_events() >= 3;
      },
      absl::Seconds(10)))
      << series.DebugString();
  EXPECT_EQ(series.in_flight(), 1);
  const v1::InFlightStream& open = series.in_flight_streams(0);
  // Three intervals have passed since the stream started.
  EXPECT_GE(open.age_seconds(), 3 * absl::ToDoubleSeconds(kInterval));
  EXPECT_GE(series.oldest_stream_age_seconds(), open.age_seconds());
  EXPECT_EQ(open.messages_received(), 1u);
  EXPECT_EQ(open.messages_sent(), 1u);
  EXPECT_GT(open.bytes_received(), 0u);
  EXPECT_EQ(open.trace_id().size(), 32u);
  EXPECT_GT(open.start_unix_nanos(), 0u);

  // /rpcz shows the oldest age and lists the stream, while it is open.
  absl::StatusOr<testing::HttpResponse> rpcz = testing::HttpGet(server_.admin_http_port(), "/rpcz");
  ASSERT_TRUE(rpcz.ok()) << rpcz.status();
  EXPECT_GE(
      JsonNumberAfter(rpcz->body, absl::StrCat("\"name\":\"", kBidi, "\""), "oldest_stream_age"),
      3 * absl::ToDoubleSeconds(kInterval));
  EXPECT_GE(
      JsonNumberAfter(rpcz->body, absl::StrCat("\"side\":\"server\",\"method\":\"", kBidi, "\""),
                      "progress_events"),
      3);
  EXPECT_TRUE(absl::StrContains(rpcz->body, open.trace_id()));

  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());

  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    const SpanData span = EndedStreamSpan(kind);
    const std::vector<const SpanEvent*> events = ProgressEvents(span);
    const size_t idle_from =
        before[static_cast<int>(kind == SpanKind::kServer ? Side::kServer : Side::kClient)] + 1;
    ASSERT_GE(events.size(), idle_from + 2) << SpanKindName(kind);
    int64_t sent = 0;
    int64_t received = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const std::vector<Attribute>& a = events[i]->attributes;
      EXPECT_EQ(StringAttribute(a, "rpc.stream.progress.trigger"), "interval");
      EXPECT_EQ(IntAttribute(a, "rpc.stream.progress.sequence"), static_cast<int64_t>(i + 1));
      // The k-th interval event comes no earlier than k intervals in.
      EXPECT_GE(events[i]->time_unix_nanos - span.start_unix_nanos,
                static_cast<int64_t>(i + 1) * absl::ToInt64Nanoseconds(kInterval));
      EXPECT_LE(events[i]->time_unix_nanos, span.end_unix_nanos);
      // Deltas are since the previous event.
      EXPECT_EQ(IntAttribute(a, "rpc.stream.messages_sent.delta"),
                IntAttribute(a, "rpc.stream.messages_sent") - sent);
      EXPECT_EQ(IntAttribute(a, "rpc.stream.messages_received.delta"),
                IntAttribute(a, "rpc.stream.messages_received") - received);
      sent = IntAttribute(a, "rpc.stream.messages_sent");
      received = IntAttribute(a, "rpc.stream.messages_received");
      if (i >= idle_from) {
        // One message each way before the stream went idle; none since.
        EXPECT_EQ(sent, 1);
        EXPECT_EQ(received, 1);
        EXPECT_EQ(IntAttribute(a, "rpc.stream.messages_sent.delta"), 0);
      }
    }
  }
  // Ended streams leave the list.
  const v1::SeriesMetrics after = QuerySeries();
  EXPECT_EQ(after.in_flight_streams_size(), 0);
  EXPECT_EQ(after.oldest_stream_age_seconds(), 0);
  EXPECT_EQ(telemetry_->streams().Stats().watched, 0u);
}

TEST_F(StreamProgressTest, MessageCountEventsAreExact) {
  StreamProgressOptions progress;
  progress.every_messages = 4;
  Start(progress);

  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  auto stream = stub_->BidiStream(&context);
  for (int i = 0; i < 10; ++i) RoundTrip(*stream);
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());

  // 10 round trips: 20 messages on each side, an event at 4, 8, ..., 20.
  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    const SpanData span = EndedStreamSpan(kind);
    const std::vector<const SpanEvent*> events = ProgressEvents(span);
    ASSERT_EQ(events.size(), 5u) << SpanKindName(kind);
    int64_t previous_bytes = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const std::vector<Attribute>& a = events[i]->attributes;
      const int64_t k = static_cast<int64_t>(i + 1);
      EXPECT_EQ(StringAttribute(a, "rpc.stream.progress.trigger"), "messages");
      EXPECT_EQ(IntAttribute(a, "rpc.stream.messages_sent") +
                    IntAttribute(a, "rpc.stream.messages_received"),
                4 * k);
      EXPECT_EQ(IntAttribute(a, "rpc.stream.messages_sent.delta") +
                    IntAttribute(a, "rpc.stream.messages_received.delta"),
                4);
      const int64_t bytes = IntAttribute(a, "rpc.stream.bytes_sent");
      EXPECT_GT(bytes, previous_bytes);
      EXPECT_EQ(IntAttribute(a, "rpc.stream.bytes_sent.delta"), bytes - previous_bytes);
      previous_bytes = bytes;
    }
  }
  EXPECT_EQ(telemetry_->Stats().streams.progress_events, 10u);
}

// Server and client streams are watched like bidi ones; unary calls never.
TEST_F(StreamProgressTest, EveryStreamingShapeIsWatchedAndUnaryCallsAreNot) {
  StreamProgressOptions progress;
  progress.every_messages = 2;
  Start(progress);

  {  // One request, six responses: 7 messages on each side.
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    testing::EchoRequest request;
    request.set_count(6);
    auto reader = stub_->ServerStream(&context, request);
    testing::EchoResponse response;
    int read = 0;
    while (reader->Read(&response)) ++read;
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(read, 6);
  }
  {  // Five requests, one response: 6 messages on each side.
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    testing::EchoResponse response;
    auto writer = stub_->ClientStream(&context, &response);
    testing::EchoRequest request;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer->Write(request));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
  }
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    testing::EchoResponse response;
    ASSERT_TRUE(stub_->Unary(&context, testing::EchoRequest(), &response).ok());
  }

  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    for (const char* name :
         {"tracebridge.testing.Echo/ServerStream", "tracebridge.testing.Echo/ClientStream"}) {
      SCOPED_TRACE(absl::StrCat(name, " ", SpanKindName(kind)));
      const SpanData span = EndedStreamSpan(kind, name);
      const std::vector<const SpanEvent*> events = ProgressEvents(span);
      ASSERT_EQ(events.size(), 3u);  // at 2, 4 and 6 messages
      for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(IntAttribute(events[i]->attributes, "rpc.stream.messages_sent") +
                      IntAttribute(events[i]->attributes, "rpc.stream.messages_received"),
                  static_cast<int64_t>(2 * (i + 1)));
      }
    }
    const SpanData unary = EndedStreamSpan(kind, "tracebridge.testing.Echo/Unary");
    EXPECT_TRUE(ProgressEvents(unary).empty());
  }
  EXPECT_EQ(telemetry_->Stats().streams.progress_events, 12u);
  EXPECT_EQ(telemetry_->streams().Stats().watched, 0u);
}

TEST_F(StreamProgressTest, ChildSpansAppearWhileTheStreamIsOpen) {
  StreamProgressOptions progress;
  progress.interval = kInterval;
  progress.child_spans = true;
  Start(progress);

  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  auto stream = stub_->BidiStream(&context);
  RoundTrip(*stream);

  std::vector<InFlightStream> open;
  ASSERT_TRUE(PollUntil([&] { return (open = telemetry_->streams().InFlight(10)).size() == 2; },
                        absl::Seconds(10)));
  const InFlightStream& server_stream = open[0].side == Side::kServer ? open[0] : open[1];
  const std::string child_name = absl::StrCat(kBidi, " progress");
  std::vector<SpanData> children;
  // Exported one by one while the stream is still open.
  ASSERT_TRUE(PollUntil(
      [&] {
        children.clear();
        for (const SpanData& child : SpansNamed(child_name, SpanKind::kInternal)) {
          if (child.parent_span_id == server_stream.span_context.span_id()) {
            children.push_back(child);
          }
        }
        return children.size() >= 3;
      },
      absl::Seconds(10)));
  EXPECT_TRUE(SpansNamed(kBidi, SpanKind::kServer).empty()) << "the stream has not ended";
  for (const SpanData& child : children) {
    EXPECT_EQ(child.context.trace_id(), server_stream.span_context.trace_id());
    EXPECT_EQ(
        StringAttribute(absl::MakeConstSpan(child.attributes.begin(), child.attributes.size()),
                        "rpc.stream.progress.trigger"),
        "interval");
  }
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  const SpanData server_span = EndedStreamSpan(SpanKind::kServer);
  EXPECT_GE(ProgressEvents(server_span).size(), 3u);
}

TEST_F(StreamProgressTest, OffByDefault) {
  Start({}, /*configure=*/false);
  EXPECT_FALSE(telemetry_->streams().enabled());

  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  auto stream = stub_->BidiStream(&context);
  for (int i = 0; i < 10; ++i) RoundTrip(*stream);
  const v1::SeriesMetrics open = QuerySeries();
  EXPECT_EQ(open.in_flight(), 1);
  EXPECT_EQ(open.in_flight_streams_size(), 0);
  EXPECT_EQ(open.oldest_stream_age_seconds(), 0);
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    EXPECT_TRUE(ProgressEvents(EndedStreamSpan(kind)).empty());
  }
  EXPECT_EQ(telemetry_->Stats().streams.progress_events, 0u);
}

// Streams end while a 1 ms timer fires on them: every span keeps a
// contiguous run of events, and no child span starts after its stream's
// span ended (ASan/TSan check the rest).
TEST_F(StreamProgressTest, StreamsEndingWhileTheTimerFires) {
  StreamProgressOptions progress;
  progress.interval = absl::Milliseconds(1);
  progress.every_messages = 3;
  progress.child_spans = true;
  Start(progress);

  constexpr int kThreads = 4;
  constexpr int kStreamsPerThread = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this] {
      for (int s = 0; s < kStreamsPerThread; ++s) {
        grpc::ClientContext context;
        context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
        auto stream = stub_->BidiStream(&context);
        for (int i = 0; i < 3; ++i) RoundTrip(*stream);
        stream->WritesDone();
        EXPECT_TRUE(stream->Finish().ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<SpanData> servers;
  ASSERT_TRUE(PollUntil(
      [&] {
        return (servers = SpansNamed(kBidi, SpanKind::kServer)).size() ==
               kThreads * kStreamsPerThread;
      },
      absl::Seconds(20)));
  for (const SpanData& span : servers) {
    const std::vector<const SpanEvent*> events = ProgressEvents(span);
    // 6 messages each: at least the two count-triggered events.
    ASSERT_GE(events.size(), 2u);
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(IntAttribute(events[i]->attributes, "rpc.stream.progress.sequence"),
                static_cast<int64_t>(i + 1));
    }
  }
  for (const SpanData& child : SpansNamed(absl::StrCat(kBidi, " progress"), SpanKind::kInternal)) {
    for (const SpanData& parent : servers) {
      if (parent.context.span_id() != child.parent_span_id) continue;
      EXPECT_LE(child.end_unix_nanos, parent.end_unix_nanos);
    }
  }
  EXPECT_EQ(telemetry_->streams().Stats().watched, 0u);
}

TEST(StreamMonitorTest, WatchesAtMostMaxStreamsAndCountsTheRest) {
  std::unique_ptr<Telemetry> telemetry =
      testing::MakeTestTelemetry("bound", testing::kAllPropagators, [](TelemetryBuilder& builder) {
        StreamProgressOptions progress;
        progress.every_messages = 1;
        progress.max_streams = 1;
        builder.SetStreamProgress(progress);
      });
  Span first_span = telemetry->tracer().StartSpan("first");
  Span second_span = telemetry->tracer().StartSpan("second");
  std::shared_ptr<StreamWatch> first =
      telemetry->streams().Watch(Side::kServer, "a.B/C", first_span);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(telemetry->streams().Watch(Side::kServer, "a.B/C", second_span), nullptr);
  EXPECT_EQ(telemetry->streams().Stats().unwatched, 1u);
  first->OnMessage(/*sent=*/true, 10);
  first->End(&first_span);
  first->End(&first_span);  // once only
  ASSERT_NE(first_span.data(), nullptr);
  EXPECT_EQ(first_span.data()->events.size(), 1u);
  // The slot is free again.
  EXPECT_NE(telemetry->streams().Watch(Side::kServer, "a.B/C", second_span), nullptr);
}

TEST(StreamMonitorTest, EventsPastTheSpanLimitAreCounted) {
  std::unique_ptr<Telemetry> telemetry =
      testing::MakeTestTelemetry("limit", testing::kAllPropagators, [](TelemetryBuilder& builder) {
        StreamProgressOptions progress;
        progress.every_messages = 1;
        builder.SetStreamProgress(progress);
        SpanLimits limits;
        limits.max_events = 3;
        builder.SetSpanLimits(limits);
      });
  Span span = telemetry->tracer().StartSpan("limited");
  std::shared_ptr<StreamWatch> watch = telemetry->streams().Watch(Side::kClient, "a.B/C", span);
  for (int i = 0; i < 5; ++i) watch->OnMessage(/*sent=*/false, 1);
  watch->End(&span);
  EXPECT_EQ(span.data()->events.size(), 3u);
  EXPECT_EQ(span.data()->dropped_events, 2u);
}

TEST(StreamMonitorTest, OptionsFromTheEnvironment) {
  {
    testing::ScopedEnv messages("TRACEBRIDGE_STREAM_PROGRESS_MESSAGES", "100");
    testing::ScopedEnv interval("TRACEBRIDGE_STREAM_PROGRESS_INTERVAL_MS", "30000");
    testing::ScopedEnv spans("TRACEBRIDGE_STREAM_PROGRESS_SPANS", "true");
    absl::StatusOr<StreamProgressOptions> options = StreamProgressOptions::FromEnvironment();
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->every_messages, 100u);
    EXPECT_EQ(options->interval, absl::Seconds(30));
    EXPECT_TRUE(options->child_spans);
  }
  absl::StatusOr<StreamProgressOptions> defaults = StreamProgressOptions::FromEnvironment();
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->enabled());
  {
    testing::ScopedEnv bad("TRACEBRIDGE_STREAM_PROGRESS_INTERVAL_MS", "-5");
    absl::StatusOr<StreamProgressOptions> options = StreamProgressOptions::FromEnvironment();
    EXPECT_TRUE(
        absl::StrContains(options.status().message(), "TRACEBRIDGE_STREAM_PROGRESS_INTERVAL_MS"));
    EXPECT_FALSE(TelemetryBuilder::FromEnvironment().Build().ok());
  }
  {
    testing::ScopedEnv bad("TRACEBRIDGE_STREAM_PROGRESS_SPANS", "maybe");
    EXPECT_FALSE(StreamProgressOptions::FromEnvironment().ok());
  }
}

}  // namespace
}  // namespace tracebridge
