// File: tests/consumer/consumer.cc
//
// A program outside the tracebridge workspace that uses its public targets
// the way a user's service does:
// - a `Telemetry`, tracebridge installed on its own `grpc::ServerBuilder`
//   next to its own service (compiled here with `cc_grpc_library`), calls
//   through `CreateTracedChannel`, and the counts read back over gRPC from the
//   `tracebridge.v1.Query` service on the admin listener `InstallOn` started
//   (the business port does not serve it: UNIMPLEMENTED);
// - a Pistache front-end: a traced route whose handler calls that gRPC
//   service, reached by a traced outgoing HTTP request, and the four spans of
//   that request (HTTP client, HTTP server, gRPC client, gRPC server) read
//   back from the query service as one trace with the right parents.
// Prints one summary line; exits 0 only when every check holds.

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <pistache/client.h>
#include <pistache/endpoint.h>
#include <pistache/router.h>

#include "consumer.grpc.pb.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/http/outgoing.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace {

constexpr int kCalls = 3;
constexpr char kMethod[] = "consumer.Greeter/Greet";

class Greeter final : public consumer::Greeter::Service {
  grpc::Status Greet(grpc::ServerContext*, const consumer::GreetRequest* request,
                     consumer::GreetReply* reply) override {
    reply->set_greeting("hello, " + request->name());
    return grpc::Status::OK;
  }
};

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

// The count of `kMethod` on `side`, or -1 when the series is missing.
int64_t CountOf(const tracebridge::v1::GetMetricsResponse& metrics, tracebridge::v1::Side side) {
  for (const tracebridge::v1::SeriesMetrics& series : metrics.series()) {
    if (series.side() == side && series.name() == kMethod) return series.count();
  }
  return -1;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "consumer: FAIL: %s\n", message.c_str());
  return 1;
}

// The HTTP status and body of `promise`, or status -1 with the error, after
// waiting at most 10 s.
std::pair<int, std::string> Await(Pistache::Async::Promise<Pistache::Http::Response> promise) {
  std::mutex mu;
  std::condition_variable settled;
  bool done = false;
  std::pair<int, std::string> outcome{-1, "no answer within 10 s"};
  promise.then(
      [&](Pistache::Http::Response response) {
        std::lock_guard<std::mutex> lock(mu);
        outcome = {static_cast<int>(response.code()), response.body()};
        done = true;
        settled.notify_all();
      },
      [&](std::exception_ptr) {
        std::lock_guard<std::mutex> lock(mu);
        outcome = {-1, "request failed"};
        done = true;
        settled.notify_all();
      });
  std::unique_lock<std::mutex> lock(mu);
  settled.wait_for(lock, std::chrono::seconds(10), [&] { return done; });
  return outcome;
}

// Sends GET /greet/consumer through a traced Pistache client to a traced
// Pistache route whose handler calls `Greet` over gRPC, then checks through
// the query service that the request made one trace of four spans, each the
// child of the one before. Returns an error message, or "" when all holds.
std::string CheckHttpToGrpc(tracebridge::Telemetry& telemetry, const std::string& grpc_target,
                            const std::string& query_target) {
  auto greeter = consumer::Greeter::NewStub(
      tracebridge::CreateTracedChannel(grpc_target, grpc::InsecureChannelCredentials(), telemetry));

  Pistache::Rest::Router router;
  tracebridge::TracedRouter traced(router, telemetry);
  const absl::Status added = traced.Get("/greet/:name", [&](const Pistache::Rest::Request& request,
                                                            tracebridge::TracedResponse response) {
    // The server span is current here, so this call is its child.
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    consumer::GreetRequest greet;
    greet.set_name(request.param(":name").as<std::string>());
    consumer::GreetReply reply;
    const grpc::Status status = greeter->Greet(&context, greet, &reply);
    if (!status.ok()) {
      response.Send(Pistache::Http::Code::Bad_Gateway, status.error_message());
      return;
    }
    response.Send(Pistache::Http::Code::Ok, reply.greeting());
  });
  if (!added.ok()) return "route: " + added.ToString();

  Pistache::Http::Endpoint endpoint(Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0)));
  endpoint.init(Pistache::Http::Endpoint::options().threads(1));
  endpoint.setHandler(traced.MakeHandler());
  endpoint.serveThreaded();
  const std::string url =
      "http://127.0.0.1:" + std::to_string(static_cast<uint16_t>(endpoint.getPort())) +
      "/greet/consumer";

  Pistache::Http::Experimental::Client client;
  client.init(Pistache::Http::Experimental::Client::options().threads(1));
  std::string trace_id;
  std::pair<int, std::string> answer;
  {
    tracebridge::TracedHttpClient http(client, telemetry);
    tracebridge::TracedRequest request = http.Get(url);
    request.SetRoute("/greet/:name");
    auto promise = request.Send();
    answer = Await(std::move(promise));
  }
  client.shutdown();
  endpoint.shutdown();
  if (answer.first != 200 || answer.second != "hello, consumer") {
    return "GET /greet/consumer answered " + std::to_string(answer.first) + " " + answer.second;
  }

  // The four spans arrive in the span store through the batch pipeline: ask
  // until they are all there, for at most 10 s.
  auto query = tracebridge::v1::Query::NewStub(
      grpc::CreateChannel(query_target, grpc::InsecureChannelCredentials()));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::map<std::string, tracebridge::v1::Span> by_name;
  while (std::chrono::steady_clock::now() < give_up) {
    (void)telemetry.ForceFlush(absl::Seconds(2));
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    tracebridge::v1::ListSpansRequest list;
    list.set_page_size(100);
    tracebridge::v1::ListSpansResponse spans;
    if (!query->ListSpans(&context, list, &spans).ok()) continue;
    // The HTTP client span is the root; the rest are of its trace (the
    // earlier Greet calls made spans with the same gRPC names).
    std::string trace;
    for (const tracebridge::v1::Span& span : spans.spans()) {
      if (span.name() == "GET /greet/:name" && span.kind() == "client") trace = span.trace_id();
    }
    by_name.clear();
    for (const tracebridge::v1::Span& span : spans.spans()) {
      if (!trace.empty() && span.trace_id() == trace)
        by_name[span.name() + "/" + span.kind()] = span;
    }
    if (by_name.size() == 4) break;
  }
  if (by_name.size() != 4)
    return "expected 4 spans of the HTTP request, found " + std::to_string(by_name.size());
  const tracebridge::v1::Span& http_client = by_name["GET /greet/:name/client"];
  const tracebridge::v1::Span& http_server = by_name["GET /greet/:name/server"];
  const tracebridge::v1::Span& grpc_client = by_name[std::string(kMethod) + "/client"];
  const tracebridge::v1::Span& grpc_server = by_name[std::string(kMethod) + "/server"];
  const tracebridge::v1::Span* chain[] = {&http_client, &http_server, &grpc_client, &grpc_server};
  for (int i = 0; i < 4; ++i) {
    if (chain[i]->trace_id() != http_client.trace_id() || chain[i]->trace_id().empty()) {
      return "the HTTP request's spans are not one trace";
    }
    if (i > 0 && chain[i]->parent_span_id() != chain[i - 1]->span_id()) {
      return "span " + chain[i]->name() + " is not the child of the span before it";
    }
  }
  return "";
}

int Run(const std::string& span_file) {
  absl::StatusOr<std::unique_ptr<tracebridge::Telemetry>> telemetry =
      tracebridge::TelemetryBuilder()
          .SetServiceName("consumer")
          .SetDefaultSpanFile(span_file)
          .Build();
  if (!telemetry.ok()) return Fail("telemetry: " + telemetry.status().ToString());

  Greeter greeter;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&greeter);
  absl::StatusOr<tracebridge::Installation> installation =
      tracebridge::InstallOn(builder, **telemetry);
  if (!installation.ok()) return Fail("InstallOn: " + installation.status().ToString());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return Fail("could not listen on 127.0.0.1");
  const std::string target = "127.0.0.1:" + std::to_string(port);
  const std::string query_target = installation->admin_listener()->grpc_address();

  int result = 0;
  std::string summary;
  {
    auto stub = consumer::Greeter::NewStub(
        tracebridge::CreateTracedChannel(target, grpc::InsecureChannelCredentials(), **telemetry));
    for (int i = 0; i < kCalls && result == 0; ++i) {
      grpc::ClientContext context;
      context.set_deadline(Deadline());
      consumer::GreetRequest request;
      request.set_name("consumer");
      consumer::GreetReply reply;
      const grpc::Status status = stub->Greet(&context, request, &reply);
      if (!status.ok()) result = Fail("Greet: " + status.error_message());
    }

    // The business port does not serve the query service ...
    {
      auto business = tracebridge::v1::Query::NewStub(
          grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      context.set_deadline(Deadline());
      tracebridge::v1::GetMetricsResponse metrics;
      const grpc::StatusCode code =
          business->GetMetrics(&context, tracebridge::v1::GetMetricsRequest(), &metrics)
              .error_code();
      if (code != grpc::StatusCode::UNIMPLEMENTED) {
        result = Fail("the business port answered GetMetrics with code " +
                      std::to_string(static_cast<int>(code)) + ", expected UNIMPLEMENTED");
      }
    }
    // ... the admin listener does, on loopback.
    auto query = tracebridge::v1::Query::NewStub(
        grpc::CreateChannel(query_target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    tracebridge::v1::GetMetricsRequest request;
    request.set_protocol(tracebridge::v1::PROTOCOL_GRPC);
    request.set_name_prefix(kMethod);
    tracebridge::v1::GetMetricsResponse metrics;
    const grpc::Status status = query->GetMetrics(&context, request, &metrics);
    if (result == 0 && !status.ok()) result = Fail("GetMetrics: " + status.error_message());
    if (result == 0) {
      // The server records a call before sending its status and the client
      // when the status arrives, so both counts are final by now.
      const int64_t served = CountOf(metrics, tracebridge::v1::SIDE_SERVER);
      const int64_t made = CountOf(metrics, tracebridge::v1::SIDE_CLIENT);
      summary = "server " + std::to_string(served) + ", client " + std::to_string(made);
      if (served != kCalls || made != kCalls) {
        result = Fail(std::string(kMethod) + " counts: " + summary + "; expected " +
                      std::to_string(kCalls) + " each");
      }
    }
  }

  if (result == 0) {
    const std::string http = CheckHttpToGrpc(**telemetry, target, query_target);
    if (!http.empty()) result = Fail("HTTP -> gRPC: " + http);
  }

  server->Shutdown(Deadline());
  installation->admin_listener()->Shutdown();
  const absl::Status shutdown = (*telemetry)->Shutdown(absl::Seconds(5));
  if (result == 0 && !shutdown.ok()) result = Fail("telemetry shutdown: " + shutdown.ToString());
  if (result == 0) {
    std::printf(
        "consumer: ok, %d calls to %s counted via tracebridge.v1.Query on the admin "
        "listener (%s); "
        "traced HTTP client -> Pistache route -> gRPC: one trace of 4 spans\n",
        kCalls, kMethod, summary.c_str());
  }
  return result;
}

}  // namespace

int main() {
  // The JSON-lines span file (the default exporter) goes to a private
  // temporary directory, removed afterwards.
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/consumer.XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return Fail("cannot create a temporary directory");
  const std::string span_file = dir + "/spans.jsonl";
  const int result = Run(span_file);
  unlink(span_file.c_str());
  rmdir(dir.c_str());
  return result;
}
