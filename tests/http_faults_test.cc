// Faults on the HTTP door, against a real traced Pistache endpoint on
// 127.0.0.1: requests over Pistache's size limit, malformed tracing headers
// of every format, clients that vanish mid-response, and a gRPC backend
// killed in the middle of a call made from a handler. In every case nothing
// crashes, nothing blocks, and every counter stays exact.
//
// The killed backend is a real process (tests/echo_peer.cc) that the test
// SIGKILLs, so the gateway sees its connection die without a goodbye.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/router.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::FindHttpSeries;
using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpResponse;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::StatusCountOf;
using Code = Pistache::Http::Code;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kSpanId[] = "00f067aa0ba902b7";
constexpr char kEchoService[] = "tracebridge.testing.Echo";
// Bounds on waits for things that should happen at once; reaching one is a
// failure, not a timing measurement.
constexpr absl::Duration kTimeout = absl::Seconds(30);
// A response body larger than what the loopback socket buffers on both sides
// can hold, so the server is still writing when the client goes away.
constexpr size_t kLargeBody = 16 << 20;

// Calls `ready` every few milliseconds until it returns true (true) or
// `timeout` passes (false): for state that offers no notification.
bool WaitUntil(const std::function<bool()>& ready, absl::Duration timeout = kTimeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::mutex mutex;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(mutex);
  while (!ready()) {
    if (absl::Now() >= deadline) return false;
    never.wait_for(lock, std::chrono::milliseconds(2));
  }
  return true;
}

// Holds handler threads until opened (or until a deadline, so a failing test
// still ends), and tells the test when one is held.
class Gate {
 public:
  void Pass() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait_for(lock, absl::ToChronoNanoseconds(kTimeout), [&] { return open_; });
    --waiting_;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
  }
  bool WaitUntilHeld() {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kTimeout),
                             [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

// A raw connection to 127.0.0.1:`port` that sends one request and can then
// vanish: `Abort` closes with a reset (SO_LINGER 0), as a client process
// that dies does. A small receive buffer keeps the server's writes pending.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const int small = 4096;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() { Abort(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool SendGet(const std::string& target) {
    const std::string request =
        absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    return connected_ && send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
                             static_cast<ssize_t>(request.size());
  }

  // Reads until at least `bytes` have arrived; false on close or timeout.
  bool ReadAtLeast(size_t bytes) {
    const absl::Time deadline = absl::Now() + kTimeout;
    size_t received = 0;
    char buffer[4096];
    while (received < bytes) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      pollfd ready = {fd_, POLLIN, 0};
      if (poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      received += static_cast<size_t>(n);
    }
    return true;
  }

  void Abort() {
    if (fd_ < 0) return;
    const linger reset = {1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
};

// The echo_peer binary from the runfiles.
std::string EchoPeerPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "tracebridge", "/tests/echo_peer");
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

class HttpFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { telemetry_ = testing::MakeTestTelemetry("http-faults"); }

  void TearDown() override {
    // Nothing may stay held in the gate once the test is over.
    gate_.Open();
    server_.reset();
  }

  // Serves the test routes; `max_request_size` 0 keeps Pistache's 4096.
  void Serve(size_t max_request_size = 0) {
    traced_ = std::make_unique<TracedRouter>(router_, *telemetry_);
    // What the handler saw: the number of baggage members current.
    ASSERT_TRUE(traced_
                    ->Get("/ok/:id",
                          [](const Pistache::Rest::Request&, TracedResponse response) {
                            response.Send(Code::Ok,
                                          absl::StrCat("baggage ", CurrentBaggage().size()));
                          })
                    .ok());
    // Answers a large body once the gate opens.
    ASSERT_TRUE(traced_
                    ->Get("/large",
                          [this](const Pistache::Rest::Request&, TracedResponse response) {
                            gate_.Pass();
                            response.Send(Code::Ok, std::string(kLargeBody, 'x'));
                          })
                    .ok());
    // Calls the gRPC backend, which holds the call until it is killed.
    ASSERT_TRUE(traced_
                    ->Get("/backend",
                          [this](const Pistache::Rest::Request&, TracedResponse response) {
                            grpc::ClientContext context;
                            context.set_deadline(std::chrono::system_clock::now() +
                                                 std::chrono::minutes(2));
                            testing::EchoRequest request;
                            request.set_message("held");
                            request.set_delay_ms(120000);
                            testing::EchoResponse reply;
                            const grpc::Status status = backend_->Unary(&context, request, &reply);
                            if (status.ok()) {
                              response.Send(Code::Ok, reply.message());
                            } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
                              response.Send(Code::Service_Unavailable, status.error_message());
                            } else {
                              response.Send(Code::Bad_Gateway, status.error_message());
                            }
                          })
                    .ok());
    server_ = std::make_unique<PistacheServer>(traced_->MakeHandler(), 2, max_request_size);
  }

  HttpResponse Get(const std::string& target, const Headers& headers = {}) {
    absl::StatusOr<HttpResponse> response = HttpGet(server_->port(), target, headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse();
  }

  SeriesSnapshot Series(const std::string& route) {
    return FindHttpSeries(*telemetry_, Side::kServer, "GET", route);
  }

  // Waits until `route` has handled `count` requests and has none in
  // flight, then returns its series.
  SeriesSnapshot WaitForHandled(const std::string& route, uint64_t count) {
    SeriesSnapshot series;
    WaitUntil([&] {
      series = Series(route);
      return series.Handled() >= count && series.InFlight() == 0;
    });
    return series;
  }

  Gate gate_;
  std::unique_ptr<Telemetry> telemetry_;
  std::unique_ptr<testing::Echo::Stub> backend_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> server_;
};

// ---- requests over Pistache's size limit ----

TEST_F(HttpFaultsTest, OversizedRequestsAreRefusedAndTheServerKeepsServing) {
  Serve();  // Pistache's default limit: 4096 bytes per request
  const std::vector<std::pair<std::string, Headers>> oversized = {
      {"/ok/1", {{"X-Padding", std::string(5000, 'p')}}},
      {"/ok/1", {{"traceparent", std::string(6000, '0')}}},
      {"/ok/1", {{"baggage", absl::StrCat("user=x,pad=", std::string(8181, 'b'))}}},
      {"/ok/1",
       {{"X-A", std::string(2000, 'a')},
        {"X-B", std::string(2000, 'b')},
        {"X-C", std::string(2000, 'c')}}},
      {absl::StrCat("/ok/", std::string(5000, '1')), {}},
  };
  int served = 0;
  for (const auto& request : oversized) {
    absl::StatusOr<HttpResponse> refused = HttpGet(server_->port(), request.first, request.second);
    // Pistache answers 413 itself, or the connection is reset before the
    // client reads that answer; either way no handler runs.
    if (refused.ok()) {
      EXPECT_EQ(refused->status, 413) << refused->body;
    }
    // And the next request is served as usual.
    EXPECT_EQ(Get("/ok/2").status, 200);
    ++served;
  }
  const SeriesSnapshot series = WaitForHandled("/ok/:id", served);
  EXPECT_EQ(series.started, static_cast<uint64_t>(served));
  EXPECT_EQ(StatusCountOf(series, 200), static_cast<uint64_t>(served));
  EXPECT_EQ(series.InFlight(), 0u);
  // Refused requests never reached the router; each counts once under
  // `unknown`, whatever the rest of its bytes looked like (the connection is
  // closed after the 413).
  const SeriesSnapshot refused =
      FindHttpSeries(*telemetry_, Side::kServer, "GET", std::string(kUnknownRoute));
  EXPECT_EQ(refused.started, oversized.size());
  EXPECT_EQ(StatusCountOf(refused, 413), oversized.size());
  EXPECT_EQ(telemetry_->Stats().tracer.spans_ended, static_cast<uint64_t>(served));
}

// ---- malformed tracing headers ----

TEST_F(HttpFaultsTest, MalformedTracingHeadersOfEveryFormatStartAFreshRootTrace) {
  Serve(16384);  // room for full-size and oversized baggage
  const std::string trace = kTraceId;
  const std::string span = kSpanId;
  std::string many_members;
  for (int i = 0; i < 200; ++i) absl::StrAppend(&many_members, i == 0 ? "" : ",", "k", i, "=v");
  std::string huge_baggage;
  while (huge_baggage.size() < 12000) {
    absl::StrAppend(&huge_baggage, huge_baggage.empty() ? "" : ",", "key", huge_baggage.size(), "=",
                    std::string(100, 'v'));
  }
  const std::vector<Headers> cases = {
      // traceparent
      {{"traceparent", ""}},
      {{"traceparent", "00"}},
      {{"traceparent", absl::StrCat("00-", trace, "-", span)}},
      {{"traceparent", absl::StrCat("00-", trace, "-", span, "-01-")}},
      {{"traceparent", absl::StrCat("ff-", trace, "-", span, "-01")}},
      {{"traceparent", absl::StrCat("0g-", trace, "-", span, "-01")}},
      {{"traceparent", absl::StrCat("00-", std::string(32, '0'), "-", span, "-01")}},
      {{"traceparent", absl::StrCat("00-", trace, "-", std::string(16, '0'), "-01")}},
      {{"traceparent", absl::StrCat("00-", trace.substr(1), "-", span, "-01")}},
      {{"traceparent", absl::StrCat("00-", trace, "-", span, "-0x")}},
      {{"traceparent", absl::StrCat("00_", trace, "_", span, "_01")}},
      {{"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"}},
      {{"traceparent", absl::StrCat("00-", trace, "-", span, "-01\xc3\xa9")}},
      {{"traceparent", std::string(3000, '-')}},
      // tracestate and baggage without a usable traceparent
      {{"tracestate", "=,=,,,;;"}},
      {{"tracestate", many_members}},
      {{"traceparent", "00-bad"}, {"tracestate", absl::StrCat("a=", std::string(3000, 'z'))}},
      {{"baggage", "=;=,,"}},
      {{"baggage", "k=%zz,%%=v,=,;;;"}},
      {{"baggage", many_members}},
      {{"baggage", huge_baggage}},
      // b3, single and multiple headers
      {{"b3", "garbage"}},
      {{"b3", trace}},
      {{"b3", absl::StrCat(trace, "-", span, "-2")}},
      {{"b3", absl::StrCat(trace, "-", span, "-1-zz")}},
      {{"b3", absl::StrCat(std::string(32, '0'), "-", span, "-1")}},
      {{"b3", absl::StrCat(trace, "-", span, "-1-", span, "-extra")}},
      {{"X-B3-TraceId", "not-hex"}, {"X-B3-SpanId", span}},
      {{"X-B3-TraceId", trace}},
      {{"X-B3-TraceId", trace}, {"X-B3-SpanId", span}, {"X-B3-Sampled", "yes"}},
      {{"X-B3-TraceId", trace}, {"X-B3-SpanId", span}, {"X-B3-Flags", "7"}},
      // uber-trace-id
      {{"uber-trace-id", ":::"}},
      {{"uber-trace-id", absl::StrCat(trace, ":", span)}},
      {{"uber-trace-id", absl::StrCat("zz:", span, ":0:1")}},
      {{"uber-trace-id", absl::StrCat(trace, ":0:0:1")}},
      {{"uber-trace-id", absl::StrCat(trace, "%3A", span, "%3A0%3Axyz")}},
      // X-Trace-ID / X-Span-ID
      {{"X-Trace-ID", "not-a-trace-id"}, {"X-Span-ID", span}},
      {{"X-Trace-ID", trace}},
      {{"X-Trace-ID", trace.substr(0, 20)}, {"X-Span-ID", span}},
      {{"X-Trace-ID", trace}, {"X-Span-ID", std::string(16, '0')}},
      // One bad header of every format at once.
      {{"traceparent", "00-x-y-01"},
       {"tracestate", "==="},
       {"baggage", ";;"},
       {"b3", "x-y"},
       {"X-B3-TraceId", "x"},
       {"uber-trace-id", "x:y:z:w"},
       {"X-Trace-ID", "x"}},
  };

  std::set<std::string> trace_ids = {kTraceId};
  for (size_t i = 0; i < cases.size(); ++i) {
    const Headers& headers = cases[i];
    const HttpResponse response = Get("/ok/1", headers);
    ASSERT_EQ(response.status, 200) << "case " << i << ": " << headers.front().first;
    const std::string trace_id = response.Header("x-trace-id");
    // A fresh trace each time: never the id some header carried, never one
    // seen before.
    EXPECT_TRUE(trace_ids.insert(trace_id).second) << "case " << i << ": " << trace_id;
    const std::vector<StoredSpan> spans = testing::SpansOfTrace(*telemetry_, trace_id);
    ASSERT_EQ(spans.size(), 1u) << "case " << i;
    const SpanData& server = *spans[0].span;
    EXPECT_EQ(server.kind, SpanKind::kServer);
    EXPECT_FALSE(server.parent_span_id.IsValid()) << "case " << i;
    EXPECT_FALSE(server.parent_is_remote) << "case " << i;
    EXPECT_TRUE(server.context.trace_state().empty()) << "case " << i;
    // Baggage is independent of the trace context, so only its bound holds
    // for the well-formed but oversized cases.
    int members = -1;
    ASSERT_TRUE(absl::SimpleAtoi(response.body.substr(response.body.find(' ') + 1), &members))
        << response.body;
    EXPECT_LE(members, static_cast<int>(Baggage::kMaxMembers)) << "case " << i;
  }
  // Every request counted, every span ended, none left in flight.
  const SeriesSnapshot series = WaitForHandled("/ok/:id", cases.size());
  EXPECT_EQ(series.started, cases.size());
  EXPECT_EQ(StatusCountOf(series, 200), cases.size());
  EXPECT_EQ(series.Errors(), 0u);
  EXPECT_EQ(telemetry_->Stats().tracer.spans_ended, cases.size());
}

// ---- clients that vanish ----

// The client goes away while the handler is still working: the late answer
// fails quietly, the span ends, the request is counted once.
TEST_F(HttpFaultsTest, ClientGoneBeforeTheAnswerEndsTheSpanAndCountsOnce) {
  Serve();
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    gate_.Close();
    {
      RawConnection client(server_->port());
      ASSERT_TRUE(client.SendGet("/large"));
      ASSERT_TRUE(gate_.WaitUntilHeld()) << "the handler never ran";
      client.Abort();
    }
    gate_.Open();
    const SeriesSnapshot series = WaitForHandled("/large", round + 1);
    EXPECT_EQ(series.Handled(), static_cast<uint64_t>(round + 1));
    EXPECT_EQ(series.InFlight(), 0u);
  }
  EXPECT_EQ(Get("/ok/1").status, 200);
  const SeriesSnapshot series = WaitForHandled("/large", kRounds);
  EXPECT_EQ(series.started, static_cast<uint64_t>(kRounds));
  EXPECT_EQ(StatusCountOf(series, 200), static_cast<uint64_t>(kRounds));
  EXPECT_EQ(telemetry_->Stats().tracer.spans_ended, static_cast<uint64_t>(kRounds + 1));
}

// The client reads the start of a large answer and goes away while the server
// is still writing it.
TEST_F(HttpFaultsTest, ClientGoneMidResponseEndsTheSpanAndCountsOnce) {
  Serve();
  gate_.Open();
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    RawConnection client(server_->port());
    ASSERT_TRUE(client.SendGet("/large"));
    ASSERT_TRUE(client.ReadAtLeast(64 << 10)) << "round " << round;
    client.Abort();
    const SeriesSnapshot series = WaitForHandled("/large", round + 1);
    EXPECT_EQ(series.Handled(), static_cast<uint64_t>(round + 1));
  }
  // The server carries on, and nothing is left in flight.
  EXPECT_EQ(Get("/ok/1").status, 200);
  const SeriesSnapshot series = WaitForHandled("/large", kRounds);
  EXPECT_EQ(series.started, static_cast<uint64_t>(kRounds));
  EXPECT_EQ(StatusCountOf(series, 200), static_cast<uint64_t>(kRounds));
  EXPECT_EQ(series.InFlight(), 0u);
  std::vector<StoredSpan> recent = telemetry_->span_store()->MostRecent(kRounds + 1);
  ASSERT_EQ(recent.size(), static_cast<size_t>(kRounds + 1));
  EXPECT_EQ(telemetry_->Stats().tracer.spans_ended, static_cast<uint64_t>(kRounds + 1));
}

// ---- a backend that dies ----

TEST_F(HttpFaultsTest, BackendKilledMidCallAnswers5xxAndRecordsBothSides) {
  auto started =
      testing::ChildProcess::Start({EchoPeerPath(), "server"}, testing::CurrentEnvironment(),
                                   TempDir(), TempDir() + "/backend.log");
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<testing::ChildProcess> backend = *std::move(started);
  absl::StatusOr<std::string> line = backend->ReadLine(kTimeout);
  ASSERT_TRUE(line.ok()) << line.status() << backend->Wait(absl::Seconds(5)).log;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(line->substr(line->find(' ') + 1), &port)) << *line;
  backend_ = testing::Echo::NewStub(CreateTracedChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), *telemetry_));
  Serve();

  absl::StatusOr<HttpResponse> response = absl::UnknownError("not sent");
  std::thread caller([&] {
    response = testing::SendHttp(
        server_->port(),
        {"GET", "/backend", {{"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")}}},
        std::chrono::seconds(60));
  });
  // Kill the backend once the gateway's call to it is in flight.
  const bool in_flight = WaitUntil([&] {
    for (const SeriesSnapshot& series : telemetry_->metrics().Snapshot().series) {
      if (series.protocol == Protocol::kGrpc && series.side == Side::kClient &&
          series.scope == kEchoService && series.InFlight() == 1) {
        return true;
      }
    }
    return false;
  });
  backend->Kill();
  caller.join();
  EXPECT_FALSE(backend->Wait(kTimeout).timed_out);
  ASSERT_TRUE(in_flight) << "the gateway's call never reached the backend";

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_GE(response->status, 500) << response->body;
  EXPECT_LT(response->status, 600) << response->body;

  // The HTTP series and the gRPC client series each hold the one failure.
  const SeriesSnapshot http = WaitForHandled("/backend", 1);
  EXPECT_EQ(http.started, 1u);
  EXPECT_EQ(StatusCountOf(http, response->status), 1u);
  EXPECT_EQ(http.Errors(), 1u);
  SeriesSnapshot call;
  for (const SeriesSnapshot& series : telemetry_->metrics().Snapshot().series) {
    if (series.protocol == Protocol::kGrpc && series.side == Side::kClient &&
        series.scope == kEchoService && series.name == "Unary") {
      call = series;
    }
  }
  EXPECT_EQ(call.started, 1u);
  EXPECT_EQ(call.Handled(), 1u);
  EXPECT_EQ(call.Errors(), 1u);
  EXPECT_EQ(call.InFlight(), 0u);

  // Both spans ended in the caller's trace, with the error.
  const std::vector<StoredSpan> spans = testing::SpansOfTrace(*telemetry_, kTraceId);
  ASSERT_EQ(spans.size(), 2u);
  std::shared_ptr<const SpanData> server_span, client_span;
  for (const StoredSpan& stored : spans) {
    (stored.span->kind == SpanKind::kServer ? server_span : client_span) = stored.span;
  }
  ASSERT_NE(server_span, nullptr);
  ASSERT_NE(client_span, nullptr);
  EXPECT_EQ(server_span->name, "GET /backend");
  EXPECT_EQ(server_span->status, StatusCode::kError);
  EXPECT_EQ(testing::AttributeText(*server_span, "http.response.status_code"),
            std::to_string(response->status));
  EXPECT_EQ(client_span->name, absl::StrCat(kEchoService, "/Unary"));
  EXPECT_EQ(client_span->parent_span_id, server_span->context.span_id());
  EXPECT_EQ(client_span->status, StatusCode::kError);
  EXPECT_NE(testing::AttributeText(*client_span, "rpc.grpc.status_code"), "0");

  // The gateway keeps serving.
  EXPECT_EQ(Get("/ok/1").status, 200);
}

}  // namespace
}  // namespace tracebridge
