// Faults on the gRPC door: a backend killed mid-call, a client killed
// mid-response, an OTLP collector that is down or stalls, absurd query page
// sizes, and hostile trace metadata. In every case nothing crashes, nothing
// blocks, and every counter stays exact.
//
// Killed peers are real processes (tests/echo_peer.cc) that the test
// SIGKILLs, so the surviving side sees a connection die without a goodbye.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tracebridge/v1/query.grpc.pb.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/otlp_receiver.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/exporters/otlp/otlp_exporter.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoServiceImpl;

constexpr char kService[] = "tracebridge.testing.Echo";
// Bounds on waits for things that should happen at once; reaching one is a
// failure, not a timing measurement.
constexpr absl::Duration kPeerTimeout = absl::Seconds(60);

// The echo_peer binary from the runfiles.
std::string EchoPeerPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "tracebridge", "/tests/echo_peer");
}

std::unique_ptr<testing::ChildProcess> StartEchoPeer(const std::vector<std::string>& args,
                                                     const std::string& log_name) {
  std::vector<std::string> argv = {EchoPeerPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child =
      testing::ChildProcess::Start(argv, testing::CurrentEnvironment(), testing::TestTempDir(),
                                   testing::TestTempDir() + "/" + log_name);
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? *std::move(child) : nullptr;
}

// A port on 127.0.0.1 that nothing listens on: bound by the kernel's choice,
// then closed.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// The `x-trace-id` our server put in a call's initial metadata.
std::string ResponseTraceId(const grpc::ClientContext& context) {
  for (const auto& entry : context.GetServerInitialMetadata()) {
    if (entry.first == "x-trace-id") return std::string(entry.second.data(), entry.second.size());
  }
  return "";
}

// The span pipeline's books balance: every ended span was exported, dropped
// for one counted reason, or is still queued. Exact once the pipeline is
// quiescent (after Shutdown), which is when the tests call it.
void ExpectSpanBooksBalance(const TelemetryStats& stats) {
  const SpanProcessorStats& p = stats.processor;
  EXPECT_EQ(p.exported + p.dropped_queue_full + p.dropped_shutdown + p.dropped_export_failed +
                p.queue_length,
            stats.tracer.spans_ended)
      << "exported " << p.exported << ", queue full " << p.dropped_queue_full << ", shutdown "
      << p.dropped_shutdown << ", export failed " << p.dropped_export_failed << ", queued "
      << p.queue_length;
}

// The server series of Echo/`method` holds exactly `calls` calls, all with
// `code`, none in flight.
void ExpectServerSeries(Telemetry& telemetry, const std::string& method, uint64_t calls, int code) {
  SeriesSnapshot series = testing::WaitForSeries(telemetry, Side::kServer, kService, method, calls);
  EXPECT_EQ(series.Handled(), calls);
  EXPECT_EQ(series.started, calls);
  EXPECT_EQ(testing::StatusCountOf(series, code), calls);
  EXPECT_EQ(series.InFlight(), 0u);
}

// ---- peers that die ----

TEST(GrpcFaultsTest, BackendKilledMidStreamFailsTheCallPromptlyAndEndsEverySpan) {
  auto client = testing::MakeTestTelemetry("client");
  auto a = testing::MakeTestTelemetry("service-a");
  std::unique_ptr<testing::ChildProcess> backend = StartEchoPeer({"server"}, "backend.log");
  ASSERT_NE(backend, nullptr);
  absl::StatusOr<std::string> line = backend->ReadLine(kPeerTimeout);
  ASSERT_TRUE(line.ok()) << line.status() << backend->Wait(absl::Seconds(5)).log;
  int backend_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(line->substr(line->find(' ') + 1), &backend_port)) << *line;

  EchoServiceImpl a_service(testing::Echo::NewStub(CreateTracedChannel(
      absl::StrCat("127.0.0.1:", backend_port), grpc::InsecureChannelCredentials(), *a)));
  testing::TracedServer a_server = testing::StartTracedServer(*a, {&a_service});
  auto stub = testing::Echo::NewStub(
      CreateTracedChannel(a_server.address(), grpc::InsecureChannelCredentials(), *client));

  Span root = client->tracer().StartSpan("client-root");
  grpc::Status status;
  {
    Scope scope(root);
    grpc::ClientContext context;
    // Far beyond how long the call should take once the backend is gone: a
    // DEADLINE_EXCEEDED below would mean the failure was not noticed.
    context.set_deadline(testing::DeadlineIn(absl::Seconds(120)));
    EchoRequest request;
    request.set_message("m");
    request.set_count(1000000);
    request.set_delay_ms(5);
    auto reader = stub->ServerStream(&context, request);
    EchoResponse response;
    ASSERT_TRUE(reader->Read(&response));
    ASSERT_TRUE(reader->Read(&response));
    backend->Kill();
    while (reader->Read(&response)) {
    }
    status = reader->Finish();
  }
  root.End();
  const testing::ProcessResult killed = backend->Wait(kPeerTimeout);
  EXPECT_FALSE(killed.timed_out);

  const grpc::StatusCode code = status.error_code();
  EXPECT_TRUE(code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED)
      << code << ": " << status.error_message();

  // A's client span to the dead backend and A's server span end with the
  // error; every series involved counts it, and nothing stays in flight.
  const std::string name = absl::StrCat(kService, "/ServerStream");
  auto a_spans = testing::WaitForTrace(*a, root.context().trace_id(), 2);
  for (SpanKind kind : {SpanKind::kClient, SpanKind::kServer}) {
    const SpanData* span = testing::FindSpan(a_spans, name, kind);
    ASSERT_NE(span, nullptr);
    EXPECT_EQ(span->status, StatusCode::kError);
    EXPECT_EQ(absl::get<int64_t>(*span->FindAttribute("rpc.grpc.status_code")),
              static_cast<int>(code));
  }
  SeriesSnapshot a_client = testing::WaitForSeries(*a, Side::kClient, kService, "ServerStream", 1);
  EXPECT_EQ(a_client.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(a_client, static_cast<int>(code)), 1u);
  EXPECT_EQ(a_client.InFlight(), 0u);
  EXPECT_GE(a_client.messages_received, 2u);
  ExpectServerSeries(*a, "ServerStream", 1, static_cast<int>(code));
  SeriesSnapshot c = testing::WaitForSeries(*client, Side::kClient, kService, "ServerStream", 1);
  EXPECT_EQ(testing::StatusCountOf(c, static_cast<int>(code)), 1u);
  EXPECT_EQ(c.InFlight(), 0u);

  // A keeps serving.
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  EchoResponse response;
  EXPECT_EQ(testing::Echo::NewStub(
                grpc::CreateChannel(a_server.address(), grpc::InsecureChannelCredentials()))
                ->Unary(&context, EchoRequest(), &response)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE)  // the downstream is gone
      << "A should answer, with the backend's absence";
  a_server.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
}

TEST(GrpcFaultsTest, ClientKilledMidResponseEndsTheServerCallAsCancelled) {
  auto server = testing::MakeTestTelemetry("server");
  EchoServiceImpl service;
  testing::TracedServer traced = testing::StartTracedServer(*server, {&service});
  std::unique_ptr<testing::ChildProcess> client =
      StartEchoPeer({"stream", std::to_string(traced.port)}, "stream.log");
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> line = client->ReadLine(kPeerTimeout);
  ASSERT_TRUE(line.ok()) << line.status() << client->Wait(absl::Seconds(5)).log;
  ASSERT_EQ(*line, "streaming");
  client->Kill();
  EXPECT_FALSE(client->Wait(kPeerTimeout).timed_out);

  ExpectServerSeries(*server, "ServerStream", 1, static_cast<int>(grpc::StatusCode::CANCELLED));
  // The series counts the call just before the span ends: wait for the span.
  std::vector<StoredSpan> recent;
  ASSERT_TRUE(testing::PollUntil(
      [&] { return (recent = server->span_store()->MostRecent(1)).size() == 1; }, kPeerTimeout));
  const SpanData& span = *recent[0].span;
  EXPECT_EQ(span.name, absl::StrCat(kService, "/ServerStream"));
  EXPECT_EQ(absl::get<int64_t>(*span.FindAttribute("rpc.grpc.status_code")),
            static_cast<int>(grpc::StatusCode::CANCELLED));
  // Server-side, a cancelled call is not a server error (it was the caller's).
  EXPECT_EQ(testing::WaitForSeries(*server, Side::kServer, kService, "ServerStream", 1).Errors(),
            0u);
  traced.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
}

// ---- collectors that fail ----

// Holds a thread until opened (or until a deadline, so a failing test still
// ends). Reports whether a thread is held.
class Gate {
 public:
  void Pass(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return open_; });
    --waiting_;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool WaitUntilHeld(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                             [&] { return waiting_ > 0; });
  }
  bool held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_ > 0;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

// Makes `count` unary calls; each must succeed.
void CallUnary(testing::Echo::Stub& stub, int count) {
  for (int i = 0; i < count; ++i) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    EchoResponse response;
    grpc::Status status = stub.Unary(&context, EchoRequest(), &response);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
  }
}

constexpr int kCalls = 64;

// A traced Echo server whose Telemetry exports to an OTLP collector through a
// small batch queue (16 spans, batches of 4), so that a stuck exporter makes
// it drop spans.
class CollectorFaultTest : public ::testing::Test {
 protected:
  void Serve(OtlpExporterOptions options) {
    auto exporter = OtlpGrpcExporter::Create(std::move(options));
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    otlp_ = exporter->get();
    BatchSpanProcessorOptions batch;
    batch.max_queue_size = 16;
    batch.max_export_batch_size = 4;
    batch.schedule_delay = absl::Milliseconds(20);
    batch.export_timeout = absl::Seconds(60);
    telemetry_ =
        testing::MakeTestTelemetry("server", "tracecontext,baggage", [&](TelemetryBuilder& b) {
          b.UseSimpleProcessor(false).SetBatchOptions(batch).AddExporter(std::move(*exporter));
        });
    server_ = testing::StartTracedServer(*telemetry_, {&service_});
    stub_ = testing::Echo::NewStub(
        grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
  }

  void Call(int count) { CallUnary(*stub_, count); }

  // What must hold while the export is stuck, after all the calls: each was
  // served and counted, and the full queue dropped spans.
  void ExpectServedWhileStuck() {
    EXPECT_EQ(otlp_->Stats().batches_exported + otlp_->Stats().batches_failed, 0u);
    ExpectServerSeries(*telemetry_, "Unary", kCalls, 0);
    EXPECT_GT(telemetry_->Stats().processor.dropped_queue_full, 0u);
  }

  // Stops the server and the span pipeline; the books must balance then.
  TelemetryStats Finish() {
    server_.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
    // With the collector gone this reports the failed final export.
    telemetry_->Shutdown(absl::Seconds(30)).IgnoreError();
    const TelemetryStats stats = telemetry_->Stats();
    EXPECT_EQ(stats.tracer.spans_ended, static_cast<uint64_t>(kCalls));
    ExpectSpanBooksBalance(stats);
    return stats;
  }

  // Declared before the Telemetry, whose exporter may wait in it.
  Gate gate_;
  EchoServiceImpl service_;
  OtlpGrpcExporter* otlp_ = nullptr;  // owned by telemetry_
  std::unique_ptr<Telemetry> telemetry_;
  testing::TracedServer server_;
  std::unique_ptr<testing::Echo::Stub> stub_;
};

TEST_F(CollectorFaultTest, CollectorDownNeverDelaysCallsAndEverySpanIsCounted) {
  // The exporter's first retry parks in the gate: from then on it is stuck
  // mid-export for as long as the test wants, as a collector that refuses
  // connections would keep it with long backoffs.
  OtlpExporterOptions options;
  options.endpoint = absl::StrCat("127.0.0.1:", ClosedPort());
  options.timeout = absl::Seconds(30);
  options.retry.max_attempts = 2;
  options.retry.initial_backoff = absl::Milliseconds(1);
  options.retry.max_backoff = absl::Milliseconds(1);
  options.on_retry = [this](const absl::Status&, absl::Duration) { gate_.Pass(kPeerTimeout); };
  ASSERT_NO_FATAL_FAILURE(Serve(std::move(options)));

  // Enough calls for the first batch; then wait until its export is stuck.
  ASSERT_NO_FATAL_FAILURE(Call(4));
  ASSERT_TRUE(gate_.WaitUntilHeld(kPeerTimeout));
  // Every further call completes while the export thread is still stuck: no
  // call waits on export (had one, it would still be waiting here, and the
  // gate's deadline would have released the exporter first).
  ASSERT_NO_FATAL_FAILURE(Call(kCalls - 4));
  EXPECT_TRUE(gate_.held());
  ExpectServedWhileStuck();

  gate_.Open();
  const TelemetryStats stats = Finish();
  EXPECT_EQ(stats.processor.exported, 0u);  // nothing reached a collector
  EXPECT_GT(stats.processor.dropped_export_failed, 0u);
  EXPECT_EQ(stats.processor.export_failures, stats.processor.export_calls);
  EXPECT_EQ(otlp_->Stats().spans_failed, stats.processor.dropped_export_failed);
}

TEST_F(CollectorFaultTest, StallingCollectorNeverDelaysCallsAndEverySpanIsCounted) {
  auto receiver = testing::OtlpReceiver::Start();
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  // The first export stalls until the receiver shuts down (bounded by the
  // call's deadline); later ones are answered at once.
  testing::OtlpReply stall;
  stall.stall = absl::Minutes(2);
  (*receiver)->Script({stall});
  OtlpExporterOptions options;
  options.endpoint = (*receiver)->address();
  options.timeout = absl::Seconds(60);
  options.retry.max_attempts = 1;
  ASSERT_NO_FATAL_FAILURE(Serve(std::move(options)));

  ASSERT_NO_FATAL_FAILURE(Call(4));
  ASSERT_TRUE((*receiver)->WaitForCalls(1, kPeerTimeout));
  ASSERT_NO_FATAL_FAILURE(Call(kCalls - 4));
  // Still the one stalled export: the calls did not wait for it.
  EXPECT_EQ((*receiver)->calls(), 1u);
  ExpectServedWhileStuck();

  // Ending the stall lets the pipeline drain into the receiver.
  (*receiver)->Shutdown();
  const TelemetryStats stats = Finish();
  EXPECT_EQ(otlp_->Stats().spans_exported, stats.processor.exported);
}

// ---- hostile requests ----

TEST(GrpcFaultsTest, AbsurdPageSizesAreInvalidAndTheServerCarriesOn) {
  auto telemetry = testing::MakeTestTelemetry("server");
  EchoServiceImpl service;
  testing::TracedServer traced = testing::StartTracedServer(*telemetry, {&service});
  auto channel = grpc::CreateChannel(traced.address(), grpc::InsecureChannelCredentials());
  auto query = v1::Query::NewStub(
      grpc::CreateChannel(traced.admin_grpc_address(), grpc::InsecureChannelCredentials()));
  auto echo = testing::Echo::NewStub(channel);
  CallUnary(*echo, 3);

  for (int32_t page_size :
       {-1, std::numeric_limits<int32_t>::min(), 1000000000, std::numeric_limits<int32_t>::max()}) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    v1::ListSpansRequest request;
    request.set_page_size(page_size);
    v1::ListSpansResponse response;
    grpc::Status status = query->ListSpans(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << page_size;
    EXPECT_EQ(response.spans_size(), 0) << page_size;
  }
  grpc::ClientContext context;
  v1::ListSpansRequest request;
  request.set_page_size(10);
  v1::ListSpansResponse response;
  ASSERT_TRUE(query->ListSpans(&context, request, &response).ok());
  EXPECT_EQ(response.spans_size(), 3);
  CallUnary(*echo, 1);
  ExpectServerSeries(*telemetry, "Unary", 4, 0);
  traced.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
}

// One call's worth of hostile metadata.
struct Hostile {
  const char* what;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Trace ids that appear, well-formed or nearly so, in the hostile values: a
// server that took one of them up would have been fooled.
const char* const kPlantedTraceIds[] = {
    "0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736",
    "80f198ee56343ba864fe8b2a57d3eff7", "0000000000000000000000000000abcd",
    "463ac35c9f6413ad48485a3953bb6124"};

std::vector<Hostile> HostileMetadata() {
  const std::string tp_id = "0af7651916cd43dd8448eb211c80319c";
  const std::string tp_span = "b7ad6b7169203331";
  std::string binary_junk;
  for (int i = 0; i < 300; ++i) binary_junk.push_back(static_cast<char>((i * 37 + 11) & 0xff));
  // A grpc-trace-bin that is well-formed except for its field ids.
  std::string bad_fields = std::string("\x00\x07", 2) + std::string(16, '\x11') + '\x09' +
                           std::string(8, '\x22') + '\x05' + '\x01';
  std::string long_baggage;
  while (long_baggage.size() < 9000) long_baggage += "key=value,";
  return {
      {"uppercase traceparent",
       {{"traceparent",
         "00-" + std::string("0AF7651916CD43DD8448EB211C80319C") + "-B7AD6B7169203331-01"}}},
      {"short trace id", {{"traceparent", "00-" + tp_id.substr(1) + "-" + tp_span + "-01"}}},
      {"long span id", {{"traceparent", "00-" + tp_id + "-" + tp_span + "0-01"}}},
      {"version 00 with a suffix", {{"traceparent", "00-" + tp_id + "-" + tp_span + "-01-extra"}}},
      {"version ff", {{"traceparent", "ff-" + tp_id + "-" + tp_span + "-01"}}},
      {"non-hex", {{"traceparent", "00-0af7651916cd43dd8448eb211c80319g-" + tp_span + "-01"}}},
      {"zero span id", {{"traceparent", "00-" + tp_id + "-0000000000000000-01"}}},
      {"empty traceparent", {{"traceparent", ""}}},
      {"64 KiB traceparent", {{"traceparent", "00-" + tp_id + "-" + std::string(64 * 1024, 'x')}}},
      {"duplicate traceparent",
       {{"traceparent", "00-" + tp_id + "-" + tp_span + "-01"},
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}},
      {"tracestate garbage", {{"tracestate", "@@@=###,=,,,k=,=v, ;;"}}},
      {"baggage garbage", {{"baggage", "=;=;,,,%%%zz;k=%ZZ;;=v"}}},
      {"oversized baggage", {{"baggage", long_baggage}}},
      {"b3 garbage", {{"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x-extra"}}},
      {"b3 non-hex", {{"b3", "80f198ee56343ba864fe8b2a57d3eff7-zz57b5a2e4d86bd1-1"}}},
      {"b3 multi garbage",
       {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"}, {"x-b3-spanid", "123"}}},
      {"uber-trace-id zero", {{"uber-trace-id", "0:0:0:1"}}},
      {"uber-trace-id fields", {{"uber-trace-id", "0000000000000000000000000000abcd:1:0:1:9:9"}}},
      {"uber-trace-id overlong", {{"uber-trace-id", std::string(300, 'a') + ":1:0:1"}}},
      {"grpc-trace-bin junk", {{"grpc-trace-bin", binary_junk}}},
      {"grpc-trace-bin bad fields", {{"grpc-trace-bin", bad_fields}}},
      {"grpc-trace-bin empty", {{"grpc-trace-bin", ""}}},
      {"x-trace-id garbage", {{"x-trace-id", "463ac35c9f6413ad48485a3953bb6124-not-hex"}}},
  };
}

TEST(GrpcFaultsTest, HostileTraceMetadataStartsAFreshTraceEveryTime) {
  auto telemetry = testing::MakeTestTelemetry("server", testing::kAllPropagators);
  EchoServiceImpl service;
  testing::TracedServer traced =
      testing::StartTracedServer(*telemetry, {&service}, {}, [](grpc::ServerBuilder& builder) {
        // Room for the 64 KiB value, so it reaches the propagators.
        builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 256 * 1024);
      });
  // No client interceptor: the hostile metadata is all the context a call has.
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(traced.address(), grpc::InsecureChannelCredentials()));

  const std::vector<Hostile> cases = HostileMetadata();
  std::set<std::string> trace_ids;
  for (const Hostile& hostile : cases) {
    SCOPED_TRACE(hostile.what);
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    for (const auto& [key, value] : hostile.metadata) context.AddMetadata(key, value);
    EchoResponse response;
    grpc::Status status = stub->Unary(&context, EchoRequest(), &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();

    const std::string trace_hex = ResponseTraceId(context);
    const TraceId trace_id = TraceId::FromHex(trace_hex);
    ASSERT_TRUE(trace_id.IsValid()) << trace_hex;
    for (const char* planted : kPlantedTraceIds) EXPECT_NE(trace_hex, planted);
    EXPECT_TRUE(trace_ids.insert(trace_hex).second) << "trace id reused";
    std::vector<SpanData> spans = testing::WaitForTrace(*telemetry, trace_id, 1);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_FALSE(spans[0].parent_span_id.IsValid());
    EXPECT_FALSE(spans[0].parent_is_remote);
    EXPECT_TRUE(spans[0].links.empty());
    EXPECT_TRUE(spans[0].context.trace_flags().IsSampled());
  }
  ExpectServerSeries(*telemetry, "Unary", cases.size(), 0);
  traced.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
}

}  // namespace
}  // namespace tracebridge
