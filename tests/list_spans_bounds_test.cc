// ListSpans and /traces/:trace_id pages are bounded in bytes, over real
// connections: 1,000 spans with 4 KB attributes page through gRPC's default
// 4 MiB receive limit with every page under the bound and no span lost or
// repeated; a span larger than a page arrives alone and marked truncated;
// page tokens the server did not issue are INVALID_ARGUMENT (HTTP 400).

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/admin/admin_listener.h"
#include "tracebridge/core/export/span_page.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

constexpr int kSpans = 1000;
constexpr size_t kAttributeBytes = 4096;

// `count` spans, each with a 4 KB attribute (distinct per span) and, like an
// HTTP server span, a path and a peer; all in one trace when `one_trace`.
// Returns the trace id of the last one.
std::string RecordSpans(Telemetry& telemetry, int count, bool one_trace = false) {
  // A remote parent: one trace without a stored root span.
  StartSpanOptions options;
  options.parent_choice = one_trace ? ParentChoice::kExplicit : ParentChoice::kRoot;
  options.parent = SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(),
                               /*is_remote=*/true);
  std::string trace_id;
  for (int i = 0; i < count; ++i) {
    Span span = telemetry.tracer().StartSpan(absl::StrCat("s", i), options);
    span.SetAttribute("blob", std::string(kAttributeBytes, static_cast<char>('a' + i % 26)));
    span.SetAttribute("url.path", absl::StrCat("/users/", i, "/orders"));
    span.SetAttribute("client.address", "10.0.0.7");
    trace_id = span.context().trace_id().ToHex();
  }
  return trace_id;
}

struct Walk {
  std::vector<std::string> span_ids;
  int pages = 0;
  size_t largest_page = 0;
  grpc::Status status;
};

// Pages through ListSpans at `address` with `page_size` over a channel with
// gRPC's default limits.
Walk PageThrough(const std::string& address, int page_size) {
  auto query = v1::Query::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  Walk walk;
  std::string token;
  do {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    v1::ListSpansRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    v1::ListSpansResponse response;
    walk.status = query->ListSpans(&context, request, &response);
    if (!walk.status.ok()) return walk;
    walk.largest_page = std::max(walk.largest_page, response.ByteSizeLong());
    for (const v1::Span& span : response.spans()) {
      EXPECT_FALSE(span.truncated());
      walk.span_ids.push_back(span.span_id());
    }
    token = response.next_page_token();
    ++walk.pages;
  } while (!token.empty() && walk.pages < 2 * kSpans);
  return walk;
}

void ExpectEachOnce(const std::vector<std::string>& span_ids, size_t expected) {
  EXPECT_EQ(span_ids.size(), expected);
  EXPECT_EQ(std::set<std::string>(span_ids.begin(), span_ids.end()).size(), expected);
}

class ListSpansBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    telemetry_ = testing::MakeTestTelemetry("bounds");
    RecordSpans(*telemetry_, kSpans);
    ASSERT_EQ(telemetry_->span_store()->Stats().stored, static_cast<size_t>(kSpans));
  }

  std::unique_ptr<Telemetry> telemetry_;
};

TEST_F(ListSpansBoundsTest, AThousand4KBSpansPageThroughUnderTheDefaultBound) {
  absl::StatusOr<std::unique_ptr<AdminListener>> admin = StartAdminListener(*telemetry_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  const Walk walk = PageThrough((*admin)->grpc_address(), 1000);
  ASSERT_TRUE(walk.status.ok()) << walk.status.error_message();
  ExpectEachOnce(walk.span_ids, kSpans);
  EXPECT_LE(walk.largest_page, kDefaultSpanPageBytes);
  // About 4.2 KB a span: 240-odd spans a page, five pages.
  EXPECT_EQ(walk.pages, 5);
}

TEST_F(ListSpansBoundsTest, ASmallerBoundMakesSmallerPages) {
  AdminListenerOptions options;
  options.max_page_bytes = 64 * 1024;
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(*telemetry_, std::move(options));
  ASSERT_TRUE(admin.ok()) << admin.status();
  const Walk walk = PageThrough((*admin)->grpc_address(), 1000);
  ASSERT_TRUE(walk.status.ok()) << walk.status.error_message();
  ExpectEachOnce(walk.span_ids, kSpans);
  EXPECT_LE(walk.largest_page, 64u * 1024);
  EXPECT_GE(walk.pages, 67);  // 15 spans a page at most
}

TEST_F(ListSpansBoundsTest, WithoutABoundThePageWouldNotArrive) {
  // What the bound prevents: the same page, unbounded, is over gRPC's default
  // 4 MiB receive limit and the client refuses it.
  testing::EchoServiceImpl service;
  InstallOptions options;
  options.admin_listener = false;
  options.serve_query_on_server_port = true;
  options.query.max_page_bytes = size_t{64} << 20;
  testing::TracedServer traced =
      testing::StartTracedServer(*telemetry_, {&service}, std::move(options));
  const Walk walk = PageThrough(traced.address(), 1000);
  EXPECT_EQ(walk.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  traced.server->Shutdown();
}

TEST_F(ListSpansBoundsTest, PageTokensTheServerDidNotIssueAreInvalid) {
  absl::StatusOr<std::unique_ptr<AdminListener>> admin = StartAdminListener(*telemetry_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto other_telemetry = testing::MakeTestTelemetry("bounds-other");
  RecordSpans(*other_telemetry, 20);
  absl::StatusOr<std::unique_ptr<AdminListener>> other = StartAdminListener(*other_telemetry);
  ASSERT_TRUE(other.ok()) << other.status();

  auto query = v1::Query::NewStub(
      grpc::CreateChannel((*admin)->grpc_address(), grpc::InsecureChannelCredentials()));
  auto list = [&](v1::Query::Stub& stub, const std::string& token, const std::string& trace_id,
                  v1::ListSpansResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    v1::ListSpansRequest request;
    request.set_page_size(10);
    request.set_page_token(token);
    request.set_trace_id(trace_id);
    return stub.ListSpans(&context, request, response);
  };
  v1::ListSpansResponse first;
  ASSERT_TRUE(list(*query, "", "", &first).ok());
  const std::string token = first.next_page_token();
  ASSERT_FALSE(token.empty());
  v1::ListSpansResponse second;
  ASSERT_TRUE(list(*query, token, "", &second).ok());
  EXPECT_EQ(second.spans_size(), 10);

  std::string flipped = token;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  const std::vector<std::string> forged = {"12345",  // the cursor in the clear, as it once was
                                           "bogus", flipped, token + token, std::string(4096, 'A')};
  for (const std::string& bad : forged) {
    v1::ListSpansResponse response;
    const grpc::Status status = list(*query, bad, "", &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.substr(0, 40);
    EXPECT_TRUE(absl::StartsWith(status.error_message(), "page_token")) << status.error_message();
    EXPECT_EQ(response.spans_size(), 0);
  }
  // A token of another query (now filtered by trace), or of another server.
  v1::ListSpansResponse response;
  EXPECT_EQ(list(*query, token, first.spans(0).trace_id(), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  auto other_query = v1::Query::NewStub(
      grpc::CreateChannel((*other)->grpc_address(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(list(*other_query, token, "", &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ListSpansTruncationTest, ASpanLargerThanAPageArrivesAloneAndTruncated) {
  auto telemetry = testing::MakeTestTelemetry("bounds-huge");
  RecordSpans(*telemetry, 1);
  {
    // 128 events of 8 × 4 KB attributes: 4 MiB of events, over gRPC's
    // default receive limit on its own.
    Span huge = telemetry->tracer().StartSpan("huge");
    for (int i = 0; i < 4; ++i) huge.SetAttribute(absl::StrCat("a", i), std::string(4096, 'a'));
    for (int e = 0; e < 128; ++e) {
      std::vector<Attribute> attributes;
      for (int i = 0; i < 8; ++i) {
        attributes.push_back({absl::StrCat("k", i), std::string(4096, 'e')});
      }
      huge.AddEvent(absl::StrCat("event-", e), std::move(attributes));
    }
  }
  RecordSpans(*telemetry, 1);
  absl::StatusOr<std::unique_ptr<AdminListener>> admin = StartAdminListener(*telemetry);
  ASSERT_TRUE(admin.ok()) << admin.status();

  auto query = v1::Query::NewStub(
      grpc::CreateChannel((*admin)->grpc_address(), grpc::InsecureChannelCredentials()));
  std::vector<v1::ListSpansResponse> pages;
  std::string token;
  do {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    v1::ListSpansRequest request;
    request.set_page_size(100);
    request.set_page_token(token);
    pages.emplace_back();
    const grpc::Status status = query->ListSpans(&context, request, &pages.back());
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(pages.back().ByteSizeLong(), kDefaultSpanPageBytes);
    token = pages.back().next_page_token();
    ASSERT_LT(pages.size(), 10u);
  } while (!token.empty());

  // Newest first: s0 (after), then the huge span alone, then s0 (before).
  ASSERT_EQ(pages.size(), 3u);
  ASSERT_EQ(pages[0].spans_size(), 1);
  ASSERT_EQ(pages[1].spans_size(), 1);
  ASSERT_EQ(pages[2].spans_size(), 1);
  const v1::Span& huge = pages[1].spans(0);
  EXPECT_EQ(huge.name(), "huge");
  EXPECT_TRUE(huge.truncated());
  // Events went (from the last) until it fit; the attributes stayed whole.
  EXPECT_GT(huge.events_size(), 0);
  EXPECT_EQ(huge.events_size() + static_cast<int>(huge.dropped_events()), 128);
  EXPECT_EQ(huge.events(huge.events_size() - 1).name(),
            absl::StrCat("event-", huge.events_size() - 1));
  EXPECT_EQ(huge.attributes_size(), 4);
  EXPECT_FALSE(pages[0].spans(0).truncated());
  EXPECT_FALSE(pages[2].spans(0).truncated());
}

TEST(TracesEndpointBoundsTest, ALargeTraceComesInPagesUnderTheBound) {
  auto telemetry = testing::MakeTestTelemetry("bounds-trace");
  constexpr int kTraceSpans = 600;  // 2.5 MB of span objects
  const std::string trace_id = RecordSpans(*telemetry, kTraceSpans, /*one_trace=*/true);
  absl::StatusOr<std::unique_ptr<AdminListener>> admin = StartAdminListener(*telemetry);
  ASSERT_TRUE(admin.ok()) << admin.status();
  const int port = (*admin)->http_port();

  std::vector<std::string> span_ids;
  std::string token;
  int pages = 0;
  do {
    std::string target = "/traces/" + trace_id;
    if (!token.empty()) absl::StrAppend(&target, "?page_token=", token);
    absl::StatusOr<testing::HttpResponse> response =
        testing::SendHttp(port, testing::HttpRequest{"GET", target, {}, ""});
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body.substr(0, 200);
    EXPECT_LE(response->body.size(), kDefaultSpanPageBytes);
    const std::string& body = response->body;
    // Span ids: the span objects carry no links, so every "span_id" is a span's.
    for (size_t at = body.find("\"span_id\":\""); at != std::string::npos;
         at = body.find("\"span_id\":\"", at + 1)) {
      span_ids.push_back(body.substr(at + 11, 16));
    }
    token.clear();
    const size_t next = body.find("\"next_page_token\":\"");
    if (next != std::string::npos) token = body.substr(next + 19, 23);
    ASSERT_LT(++pages, 20);
  } while (!token.empty());
  ExpectEachOnce(span_ids, kTraceSpans);
  EXPECT_EQ(pages, 3);

  for (const std::string& bad : {std::string("bogus"), std::string(23, 'A')}) {
    absl::StatusOr<testing::HttpResponse> response =
        testing::HttpGet(port, "/traces/" + trace_id + "?page_token=" + bad);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 400);
    EXPECT_TRUE(absl::StrContains(response->body, "page_token"));
  }
}

}  // namespace
}  // namespace tracebridge
