// Legal W3C baggage near its 8192-byte limit, carried through real hops:
// tracing must never make the next hop refuse a call. gRPC servers refuse
// request metadata over 8 KiB by default and Pistache requests over 4096
// bytes, so each hop injects within the telemetry's budget (default 2048
// bytes): baggage members that do not fit are dropped, counted in the
// self-metrics and recorded on the client span, and the trace context and
// the surviving members arrive.
//
// Chains, each ending in a leaf that records what its handler ran in:
//   1. a plain gRPC client (no tracebridge) → A (traced, limit raised to take
//      the full baggage) → B (gRPC defaults): A's hop drops.
//   2. a traced gRPC client → A → B, all at gRPC's defaults: the first hop
//      drops, the second has nothing left to drop.
//   3. HTTP → a traced Pistache gateway (limit raised) → gRPC A.
//   4. HTTP → a traced Pistache gateway (limit raised) → TracedHttpClient →
//      a traced Pistache backend at Pistache's default limit.
//
// Every service here speaks "tracecontext,baggage" (the default), so the
// number of members that survive can be worked out by hand from the rule in
// core/propagation/injection_budget.h:
//   traceparent field: 11 + 55 + 32 = 98 bytes; baggage field: 7 + 32 = 39;
//   header room: 2048 - 98 - 39 = 1911 bytes; a member "mNN=" + 120 value
//   bytes is 124 bytes, plus a comma after the first: 124 + 125 * (n - 1)
//   <= 1911 gives n = 15 of the 64 sent, 49 dropped.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/client.h>
#include <pistache/router.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/context_recorder.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/propagation/injection_budget.h"
#include "tracebridge/core/propagation/propagators.h"
#include "tracebridge/core/propagation/w3c_propagators.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/http/outgoing.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::EchoRequest;
using ::tracebridge::testing::EchoResponse;

constexpr size_t kSentMembers = 64;
constexpr size_t kSurvivingMembers = 15;  // worked out in the file comment
constexpr size_t kDroppedMembers = kSentMembers - kSurvivingMembers;
constexpr char kTraceId[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kTraceparent[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
constexpr char kGrpcSpanName[] = "tracebridge.testing.Echo/Unary";
constexpr char kDroppedAttribute[] = "tracebridge.baggage.dropped_members";

// 64 members of 124 bytes: a 7999-byte header, inside W3C's 8192.
Baggage NearLimitBaggage() {
  BaggageBuilder builder;
  for (size_t i = 0; i < kSentMembers; ++i) {
    builder.Add(absl::StrCat("m", i < 10 ? "0" : "", i), std::string(120, 'a' + i % 26), "");
  }
  return std::move(builder).Build();
}

// The first `count` members of `baggage`.
Baggage Prefix(const Baggage& baggage, size_t count) {
  BaggageBuilder builder;
  for (size_t i = 0; i < count && i < baggage.size(); ++i) {
    const Baggage::Entry& entry = baggage.entries()[i];
    builder.Add(entry.key, entry.value, entry.properties);
  }
  return std::move(builder).Build();
}

uint64_t DroppedCount(Telemetry& telemetry) {
  return telemetry.Stats().propagation.baggage_members_dropped;
}

// The `tracebridge.baggage.dropped_members` attribute of the first span
// named `name` of `kind` in the trace, or -1 when absent.
int64_t DroppedOnSpan(Telemetry& telemetry, const TraceId& trace_id, const std::string& name,
                      SpanKind kind) {
  std::vector<SpanData> spans = testing::WaitForTrace(telemetry, trace_id, 1);
  const SpanData* span = testing::FindSpan(spans, name, kind);
  if (span == nullptr) return -1;
  const AttributeValue* value = span->FindAttribute(kDroppedAttribute);
  if (value == nullptr) return -1;
  const int64_t* count = absl::get_if<int64_t>(value);
  return count != nullptr ? *count : -1;
}

// Raises a server's metadata limit so W3C-legal baggage reaches it.
void TakeFullBaggage(grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 16 * 1024);
}

// Checks what the last hop of a chain received, and that `dropping_hop`
// (the one whose client span is named `client_span`) dropped exactly the
// members that did not arrive, counted them and recorded them on that span.
void ExpectTrimmedArrival(const testing::ReceivedContext& received, const TraceId& trace_id,
                          Telemetry& dropping_hop, const std::string& client_span) {
  ASSERT_TRUE(received.seen);
  EXPECT_EQ(received.span.trace_id(), trace_id);
  EXPECT_EQ(received.baggage, Prefix(NearLimitBaggage(), kSurvivingMembers));
  EXPECT_EQ(DroppedCount(dropping_hop), kDroppedMembers);
  EXPECT_EQ(dropping_hop.Stats().propagation.injections_trimmed, 1u);
  EXPECT_EQ(DroppedOnSpan(dropping_hop, trace_id, client_span, SpanKind::kClient),
            static_cast<int64_t>(kDroppedMembers));
}

// A Pistache gateway taking requests of up to 16 KiB, like the example
// gateway (room for a full-size baggage header), serving GET /orders/:id
// with `handler`.
class Gateway {
 public:
  Gateway(Telemetry& telemetry, TracedHandler handler) : traced_(router_, telemetry) {
    EXPECT_TRUE(traced_.Get("/orders/:id", std::move(handler)).ok());
    server_ = std::make_unique<testing::PistacheServer>(traced_.MakeHandler(), 2, 16 * 1024);
  }

  // GETs /orders/1 with `kTraceparent` and the near-limit baggage; the
  // response's status (0 when the request failed).
  int SendNearLimitBaggage() {
    absl::StatusOr<testing::HttpResponse> response =
        Get({{"traceparent", kTraceparent}, {"baggage", FormatBaggageHeader(NearLimitBaggage())}});
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->status : 0;
  }

  // GETs /orders/1 with `headers`.
  absl::StatusOr<testing::HttpResponse> Get(
      std::vector<std::pair<std::string, std::string>> headers) {
    return testing::HttpGet(server_->port(), "/orders/1", std::move(headers));
  }

 private:
  Pistache::Rest::Router router_;
  TracedRouter traced_;
  std::unique_ptr<testing::PistacheServer> server_;
};

class InjectionBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = testing::MakeTestTelemetry("budget-a", "tracecontext,baggage");
    b_ = testing::MakeTestTelemetry("budget-b", "tracecontext,baggage");
    ASSERT_EQ(a_->injection_budget(), kDefaultInjectionBudget);
  }

  // B: a recording leaf, its server configured by `configure`.
  void StartB(std::function<void(grpc::ServerBuilder&)> configure = nullptr) {
    b_server_ = testing::StartTracedServer(*b_, {&b_service_}, {}, std::move(configure));
    ASSERT_NE(b_server_.server, nullptr);
  }

  // A: an Echo service that makes the same call to B through a traced
  // channel, its server configured by `configure`.
  void StartA(std::function<void(grpc::ServerBuilder&)> configure = nullptr) {
    a_service_ = std::make_unique<testing::EchoServiceImpl>(Stub(b_server_.address(), *a_));
    a_server_ = testing::StartTracedServer(*a_, {a_service_.get()}, {}, std::move(configure));
    ASSERT_NE(a_server_.server, nullptr);
  }

  static std::shared_ptr<testing::Echo::Stub> Stub(const std::string& address,
                                                   Telemetry& telemetry) {
    return testing::Echo::NewStub(
        CreateTracedChannel(address, grpc::InsecureChannelCredentials(), telemetry));
  }

  // One Unary call through `stub` with `baggage` current (the status).
  static grpc::Status CallWith(testing::Echo::Stub& stub, Span& root, const Baggage& baggage) {
    Scope scope(root, baggage);
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoResponse response;
    return stub.Unary(&context, EchoRequest(), &response);
  }

  void TearDown() override {
    if (a_server_.server != nullptr) a_server_.server->Shutdown();
    if (b_server_.server != nullptr) b_server_.server->Shutdown();
  }

  std::unique_ptr<Telemetry> a_;
  std::unique_ptr<Telemetry> b_;
  testing::ContextRecorder b_received_;
  testing::RecordingEcho b_service_{&b_received_};
  testing::TracedServer b_server_;
  std::unique_ptr<testing::EchoServiceImpl> a_service_;
  testing::TracedServer a_server_;
};

TEST_F(InjectionBudgetTest, PlainClientToAToB) {
  StartB();
  StartA(TakeFullBaggage);
  ASSERT_EQ(NearLimitBaggage().size(), kSentMembers);
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(a_server_.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  context.AddMetadata("traceparent", kTraceparent);
  context.AddMetadata("baggage", FormatBaggageHeader(NearLimitBaggage()));
  EchoResponse response;
  const grpc::Status status = stub->Unary(&context, EchoRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ExpectTrimmedArrival(b_received_.Last(), TraceId::FromHex(kTraceId), *a_, kGrpcSpanName);
  EXPECT_EQ(DroppedCount(*b_), 0u);
}

TEST_F(InjectionBudgetTest, TracedClientToAToB) {
  StartB();
  StartA();
  auto client = testing::MakeTestTelemetry("budget-client", "tracecontext,baggage");
  auto stub = Stub(a_server_.address(), *client);
  Span root = client->tracer().StartSpan("root");
  const grpc::Status status = CallWith(*stub, root, NearLimitBaggage());
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  root.End();
  // The first hop dropped; what it sent fits A's hop as it is.
  ExpectTrimmedArrival(b_received_.Last(), root.context().trace_id(), *client, kGrpcSpanName);
  EXPECT_EQ(DroppedCount(*a_), 0u);
  EXPECT_EQ(DroppedOnSpan(*a_, root.context().trace_id(), kGrpcSpanName, SpanKind::kClient), -1);
}

TEST_F(InjectionBudgetTest, HttpGatewayToGrpc) {
  StartB();
  auto telemetry = testing::MakeTestTelemetry("budget-gateway", "tracecontext,baggage");
  auto stub = Stub(b_server_.address(), *telemetry);
  Gateway gateway(*telemetry, [&stub](const Pistache::Rest::Request&, TracedResponse response) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoResponse reply;
    const grpc::Status status = stub->Unary(&context, EchoRequest(), &reply);
    response.Send(status.ok() ? Pistache::Http::Code::Ok : Pistache::Http::Code::Bad_Gateway,
                  status.error_message());
  });
  EXPECT_EQ(gateway.SendNearLimitBaggage(), 200);
  ExpectTrimmedArrival(b_received_.Last(), TraceId::FromHex(kTraceId), *telemetry, kGrpcSpanName);
}

TEST_F(InjectionBudgetTest, HttpGatewayToHttpBackend) {
  auto backend = testing::MakeTestTelemetry("budget-backend", "tracecontext,baggage");
  testing::ContextRecorder backend_received;
  Pistache::Rest::Router backend_router;
  TracedRouter backend_traced(backend_router, *backend);
  ASSERT_TRUE(
      backend_traced
          .Get("/items/:id",
               [&backend_received](const Pistache::Rest::Request&, TracedResponse response) {
                 backend_received.Record(response.span().context(), response.baggage());
                 response.Send(Pistache::Http::Code::Ok, "item");
               })
          .ok());
  // Pistache's default request limit (4096 bytes).
  testing::PistacheServer backend_server(backend_traced.MakeHandler());

  auto telemetry = testing::MakeTestTelemetry("budget-gateway", "tracecontext,baggage");
  Pistache::Http::Experimental::Client client;
  client.init(Pistache::Http::Experimental::Client::options().threads(1));
  TracedHttpClient http(client, *telemetry);
  const std::string url = absl::StrCat("http://127.0.0.1:", backend_server.port(), "/items/7");
  Gateway gateway(*telemetry, [&](const Pistache::Rest::Request&, TracedResponse response) {
    const testing::HttpOutcome outcome =
        testing::AwaitResponse(http.Get(url).SetRoute("/items/:id").Send());
    response.Send(
        outcome.status == 200 ? Pistache::Http::Code::Ok : Pistache::Http::Code::Bad_Gateway,
        absl::StrCat(outcome.status, " ", outcome.error));
  });
  EXPECT_EQ(gateway.SendNearLimitBaggage(), 200);
  client.shutdown();
  ExpectTrimmedArrival(backend_received.Last(), TraceId::FromHex(kTraceId), *telemetry,
                       "GET /items/:id");
}

// Raising the budget (and the next hop's limit) carries the whole baggage.
TEST_F(InjectionBudgetTest, RaisedBudgetCarriesEverything) {
  StartB(TakeFullBaggage);
  auto client = testing::MakeTestTelemetry(
      "budget-client", "tracecontext,baggage",
      [](TelemetryBuilder& builder) { builder.SetInjectionBudget(16 * 1024); });
  auto stub = Stub(b_server_.address(), *client);
  Span root = client->tracer().StartSpan("root");
  const grpc::Status status = CallWith(*stub, root, NearLimitBaggage());
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(b_received_.Last().baggage, NearLimitBaggage());
  EXPECT_EQ(DroppedCount(*client), 0u);
}

// What a receiver cannot keep is counted, not lost silently: 2 malformed
// members and 66 valid ones (2 past W3C's 64) arrive over gRPC and HTTP.
std::string OverfullMalformedBaggage() {
  std::string header = "no-equals-sign,bad key=1";
  for (int i = 0; i < 66; ++i) absl::StrAppend(&header, ",k", i, "=v");
  return header;
}

void ExpectExtractDrops(Telemetry& receiver, const testing::ReceivedContext& received) {
  ASSERT_TRUE(received.seen);
  EXPECT_EQ(received.baggage.size(), Baggage::kMaxMembers);
  EXPECT_EQ(receiver.Stats().propagation.baggage_extract_invalid, 2u);
  EXPECT_EQ(receiver.Stats().propagation.baggage_extract_over_limit, 2u);
  EXPECT_EQ(DroppedCount(receiver), 0u);  // nothing was injected
}

TEST_F(InjectionBudgetTest, ReceivedMembersThatCannotBeKeptAreCountedOverGrpc) {
  StartB();
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(b_server_.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  context.AddMetadata("traceparent", kTraceparent);
  context.AddMetadata("baggage", OverfullMalformedBaggage());
  EchoResponse response;
  const grpc::Status status = stub->Unary(&context, EchoRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ExpectExtractDrops(*b_, b_received_.Last());
}

TEST_F(InjectionBudgetTest, ReceivedMembersThatCannotBeKeptAreCountedOverHttp) {
  auto telemetry = testing::MakeTestTelemetry("extract-http", "tracecontext,baggage");
  testing::ContextRecorder received;
  Gateway gateway(*telemetry, [&received](const Pistache::Rest::Request&, TracedResponse response) {
    received.Record(response.span().context(), response.baggage());
    response.Send(Pistache::Http::Code::Ok, "ok");
  });
  absl::StatusOr<testing::HttpResponse> response =
      gateway.Get({{"traceparent", kTraceparent}, {"baggage", OverfullMalformedBaggage()}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  ExpectExtractDrops(*telemetry, received.Last());
}

// ---- the rule, on a plain carrier ----

// The "baggage" header a carrier received, parsed back.
Baggage SentIn(const VectorCarrier& carrier) {
  Baggage baggage;
  ParseBaggageHeader(carrier.Get("baggage"), &baggage);
  return baggage;
}

PropagatedContext WithBaggage(Baggage baggage) {
  PropagatedContext context;
  context.span_context =
      SpanContext(TraceId::FromHex(kTraceId), SpanId::FromHex("b7ad6b7169203331"),
                  TraceFlags(TraceFlags::kSampled), /*is_remote=*/false);
  context.baggage = std::move(baggage);
  return context;
}

std::unique_ptr<Propagator> W3c() {
  absl::StatusOr<std::unique_ptr<Propagator>> propagator = MakePropagators("tracecontext,baggage");
  EXPECT_TRUE(propagator.ok());
  return *std::move(propagator);
}

TEST(InjectionBudgetRuleTest, WhatFitsIsWrittenUnchanged) {
  const PropagatedContext context = WithBaggage(Baggage().Set("tenant", "acme"));
  VectorCarrier carrier;
  EXPECT_EQ(InjectWithinBudget(*W3c(), context, kDefaultInjectionBudget, &carrier), 0u);
  EXPECT_EQ(carrier.Get("traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(carrier.Get("baggage"), "tenant=acme");
  // Exactly at the budget still fits: 98 (traceparent) + 7 + 11 + 32.
  VectorCarrier exact;
  EXPECT_EQ(InjectWithinBudget(*W3c(), context, 148, &exact), 0u);
  EXPECT_EQ(exact.Get("baggage"), "tenant=acme");
  VectorCarrier one_less;
  EXPECT_EQ(InjectWithinBudget(*W3c(), context, 147, &one_less), 1u);
  EXPECT_EQ(one_less.CountValues("baggage"), 0u);
  EXPECT_EQ(one_less.Get("traceparent"), carrier.Get("traceparent"));
}

TEST(InjectionBudgetRuleTest, MembersAreDroppedWholeInOrderAndSmallerOnesMayFollow) {
  const Baggage baggage = Baggage()
                              .Set("a", std::string(100, 'a'))
                              .Set("big", std::string(3000, 'b'))
                              .Set("c", std::string(100, 'c'));
  VectorCarrier carrier;
  EXPECT_EQ(InjectWithinBudget(*W3c(), WithBaggage(baggage), kDefaultInjectionBudget, &carrier),
            1u);
  EXPECT_EQ(SentIn(carrier),
            Baggage().Set("a", std::string(100, 'a')).Set("c", std::string(100, 'c')));
}

TEST(InjectionBudgetRuleTest, TraceContextIsWrittenEvenOverTheBudget) {
  VectorCarrier carrier;
  EXPECT_EQ(InjectWithinBudget(*W3c(), WithBaggage(Baggage().Set("k", "v")), 10, &carrier), 1u);
  EXPECT_EQ(carrier.CountValues("traceparent"), 1u);
  EXPECT_EQ(carrier.CountValues("baggage"), 0u);
}

// A propagator that writes the baggage twice, under two names: the W3C
// estimate undercounts it, so the check after trimming sends none.
class TwiceBaggage final : public Propagator {
 public:
  absl::string_view Name() const noexcept override { return "twice"; }
  void Extract(const CarrierReader&, PropagatedContext*) const override {}
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override {
    if (context.baggage.empty()) return;
    carrier->Set("baggage", FormatBaggageHeader(context.baggage));
    carrier->Set("baggage-copy", FormatBaggageHeader(context.baggage));
  }
  absl::Span<const absl::string_view> Fields() const noexcept override { return {}; }
};

TEST(InjectionBudgetRuleTest, AnUnknownBaggageShapeOverTheBudgetSendsNone) {
  VectorCarrier carrier;
  EXPECT_EQ(InjectWithinBudget(TwiceBaggage(), WithBaggage(NearLimitBaggage()),
                               kDefaultInjectionBudget, &carrier),
            kSentMembers);
  EXPECT_TRUE(carrier.entries().empty());
}

TEST(InjectionBudgetOptionTest, ZeroBudgetIsRejected) {
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry =
      TelemetryBuilder().SetInjectionBudget(0).SetSpanStore({}, false).Build();
  ASSERT_FALSE(telemetry.ok());
  EXPECT_EQ(telemetry.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tracebridge
