// The admin pages: escaping and content negotiation, the page shell with
// hostile data, the trace layout (nesting, missing parents, repeats, cycles,
// depth), the tracez and rpcz data, and the pages as the admin listener
// serves them over real connections, with a peer that answers, one that
// refuses connections and one that never answers.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/test_telemetry.h"
#include "tracebridge/admin/admin_listener.h"
#include "tracebridge/admin/pages/html.h"
#include "tracebridge/admin/pages/rpcz.h"
#include "tracebridge/admin/pages/trace_page.h"
#include "tracebridge/admin/pages/tracez.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/util/json_writer.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpResponse;

// What a hostile peer or request could put in a name or attribute.
constexpr char kHostile[] =
    "</script><script>alert(1)</script><img src=x onerror=alert(2)>\"'&<!-- \xE2\x80\xA8";

size_t Count(absl::string_view text, absl::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(PagesHtml, EscapesTextAndAttributeValues) {
  std::string out;
  AppendHtmlEscaped("<img src=x onerror=\"a('b')\">&amp;", &out);
  EXPECT_EQ(out, "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;amp;");
  out.clear();
  AppendHtmlEscaped("ok\xFFok", &out);  // ill-formed UTF-8
  EXPECT_EQ(out, "ok\xEF\xBF\xBDok");
}

TEST(PagesHtml, JsonForScriptCannotEndItsElement) {
  std::string json;
  JsonWriter(&json).BeginObject().Key(kHostile).String(kHostile).EndObject();
  std::string out;
  AppendJsonForScript(json, &out);
  EXPECT_EQ(out.find_first_of("<>&"), std::string::npos) << out;
  EXPECT_FALSE(absl::StrContains(out, "\xE2\x80\xA8"));
  EXPECT_TRUE(absl::StrContains(out, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
  EXPECT_TRUE(absl::StrContains(out, "\\u0026\\u003c!-- \\u2028"));
}

TEST(PagesHtml, HtmlOnlyForClientsThatAskForIt) {
  // Chromium's navigation Accept header.
  EXPECT_TRUE(
      AcceptsHtml("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                  "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"));
  EXPECT_TRUE(AcceptsHtml("text/html"));
  EXPECT_TRUE(AcceptsHtml("application/json;q=0.5, TEXT/HTML"));
  EXPECT_FALSE(AcceptsHtml(""));
  EXPECT_FALSE(AcceptsHtml("*/*"));
  EXPECT_FALSE(AcceptsHtml("application/json"));
  EXPECT_FALSE(AcceptsHtml("application/json, text/html;q=0.9"));
  EXPECT_FALSE(AcceptsHtml("text/html;q=0"));
  EXPECT_FALSE(AcceptsHtml("text/html;q=nonsense"));
}

TEST(PagesHtml, DecodesFormQueryValues) {
  EXPECT_EQ(DecodeQueryValue("POST+%2Forders"), "POST /orders");
  EXPECT_EQ(DecodeQueryValue("a%2fb%zz%4"), "a/b%zz%4");
}

TEST(PagesHtml, HostileTitleServiceAndDataStayText) {
  Page page;
  page.title = kHostile;
  page.service = kHostile;
  page.kind = "trace";
  page.script = &kTraceJs;
  JsonWriter(&page.data_json).BeginObject().Key("name").String(kHostile).EndObject();
  const EndpointReply reply = RenderPage(page);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  // The data element and the two embedded scripts, nothing else.
  EXPECT_EQ(Count(reply.body, "<script"), 3u) << reply.body.substr(0, 2000);
  EXPECT_EQ(Count(reply.body, "</script>"), 3u);
  EXPECT_FALSE(absl::StrContains(reply.body, "<img"));
  EXPECT_FALSE(absl::StrContains(reply.body, "alert(1)</"));
  EXPECT_TRUE(absl::StrContains(reply.body, "&lt;/script&gt;&lt;script&gt;alert(1)"));
  std::string csp;
  for (const auto& header : reply.headers) {
    if (header.first == "Content-Security-Policy") csp = header.second;
  }
  EXPECT_TRUE(absl::StartsWith(csp, "default-src 'none'; script-src 'sha256-")) << csp;
  EXPECT_FALSE(absl::StrContains(csp, "unsafe")) << csp;
  EXPECT_TRUE(absl::StrContains(csp, absl::StrCat("'sha256-", kTraceJs.sha256, "'")));
  EXPECT_TRUE(absl::StrContains(csp, absl::StrCat("style-src 'sha256-", kPageCss.sha256, "'")));
}

v1::Span MakeSpan(const std::string& id, const std::string& parent, uint64_t start,
                  const std::string& name = "op") {
  v1::Span span;
  span.set_span_id(id);
  span.set_parent_span_id(parent);
  span.set_start_unix_nanos(start);
  span.set_duration_nanos(10);
  span.set_name(name);
  return span;
}

// (span id, depth, missing parent) of each row.
std::vector<std::string> Rows(const std::vector<v1::Span>& spans, size_t* duplicates = nullptr) {
  std::vector<std::string> rows;
  for (const TraceRow& row : LayOutTrace(spans, duplicates)) {
    rows.push_back(absl::StrCat(spans[row.span].span_id(), "/", row.depth,
                                row.missing_parent ? "/missing" : ""));
  }
  return rows;
}

TEST(TraceLayout, ChildrenFollowTheirParentInStartOrder) {
  const std::vector<v1::Span> spans = {MakeSpan("d", "b", 5), MakeSpan("b", "a", 3),
                                       MakeSpan("a", "", 1), MakeSpan("c", "a", 2),
                                       MakeSpan("e", "c", 4)};
  EXPECT_EQ(Rows(spans), (std::vector<std::string>{"a/0", "c/1", "e/2", "b/1", "d/2"}));
}

TEST(TraceLayout, MissingParentsRepeatsAndCyclesAreShownNotLost) {
  size_t duplicates = 0;
  const std::vector<v1::Span> spans = {
      MakeSpan("a", "", 1),  MakeSpan("x", "gone", 2),  // parent in no answer
      MakeSpan("a", "", 1),                             // the same span from two sources
      MakeSpan("p", "q", 6), MakeSpan("q", "p", 7),     // a cycle
      MakeSpan("s", "s", 8),                            // its own parent
  };
  EXPECT_EQ(Rows(spans, &duplicates),
            (std::vector<std::string>{"a/0", "x/0/missing", "s/0/missing", "p/0/missing", "q/1"}));
  EXPECT_EQ(duplicates, 1u);
}

TEST(TraceLayout, AChainDeeperThanAnyStackLaysOut) {
  // Recursing once per level would need far more than a thread's 8 MiB stack.
  constexpr int kDepth = 100000;
  std::vector<v1::Span> spans;
  spans.push_back(MakeSpan("s0", "", 0));
  for (int i = 1; i < kDepth; ++i) {
    spans.push_back(MakeSpan(absl::StrCat("s", i), absl::StrCat("s", i - 1), i));
  }
  const std::vector<TraceRow> rows = LayOutTrace(spans);
  ASSERT_EQ(rows.size(), static_cast<size_t>(kDepth));
  EXPECT_EQ(rows.back().depth, kDepth - 1);
}

std::shared_ptr<SpanData> StoredData(const TraceId& trace, const SpanId& id, const SpanId& parent,
                                     const std::string& name, SpanKind kind, int64_t start,
                                     int64_t duration, bool error) {
  auto span = std::make_shared<SpanData>();
  span->context = SpanContext(trace, id, TraceFlags(1), false, TraceState());
  span->parent_span_id = parent;
  span->name = name;
  span->kind = kind;
  span->start_unix_nanos = start;
  span->end_unix_nanos = start + duration;
  if (error) span->status = StatusCode::kError;
  return span;
}

TEST(Tracez, ListsTracesWithAMatchingSpanAndCountsEveryBucket) {
  const TraceId slow = TraceId::Generate();
  const TraceId failed = TraceId::Generate();
  const SpanId root = SpanId::Generate();
  const SpanId remote_parent = SpanId::Generate();
  std::vector<StoredSpan> spans;
  uint64_t sequence = 10;
  auto add = [&](std::shared_ptr<SpanData> span) {
    StoredSpan stored;
    stored.sequence = sequence--;
    stored.span = std::move(span);
    spans.push_back(stored);
  };
  // Newest first, as the store hands them out.
  add(StoredData(failed, SpanId::Generate(), remote_parent, "GET /a", SpanKind::kServer, 1000,
                 50'000, true));
  add(StoredData(slow, SpanId::Generate(), root, "x.Y/Call", SpanKind::kClient, 2000, 3'000'000,
                 false));
  add(StoredData(slow, root, SpanId(), "POST /orders", SpanKind::kServer, 1000, 5'000'000, false));

  auto listed = [&](TracezFilter filter) {
    const std::string json = TracezJson(spans, filter, "svc", 100);
    std::vector<std::string> ids;
    for (const TraceId& id : {slow, failed}) {
      if (absl::StrContains(json, absl::StrCat("\"trace_id\":\"", id.ToHex()))) {
        ids.push_back(id == slow ? "slow" : "failed");
      }
    }
    return ids;
  };
  EXPECT_EQ(listed({}), (std::vector<std::string>{"slow", "failed"}));
  EXPECT_EQ(listed({"x.Y/Call"}), (std::vector<std::string>{"slow"}));
  EXPECT_EQ(listed({"x.Y/Call", "server"}), (std::vector<std::string>{}));
  EXPECT_EQ(listed({"", "", true}), (std::vector<std::string>{"failed"}));
  EXPECT_EQ(listed({"", "", false, 1'000'000}), (std::vector<std::string>{"slow"}));
  EXPECT_EQ(listed({"", "", false, 1'000'000, 4'000'000}), (std::vector<std::string>{"slow"}));
  EXPECT_EQ(listed({"", "", false, 4'000'000, 5'000'000}), (std::vector<std::string>{}));

  const std::string json = TracezJson(spans, TracezFilter(), "svc", 100);
  // The slow trace's row is its local root, with both spans counted.
  EXPECT_TRUE(absl::StrContains(
      json, absl::StrCat("\"trace_id\":\"", slow.ToHex(),
                         "\",\"root\":\"POST /orders\",\"kind\":\"server\",\"start_unix_ms\":0,"
                         "\"duration_ns\":5000000,\"spans\":2,\"error\":false")))
      << json;
  // A root whose parent lives in another service is still this service's root.
  EXPECT_TRUE(absl::StrContains(json, "\"root\":\"GET /a\""));
  EXPECT_TRUE(absl::StrContains(
      json,
      "{\"name\":\"GET /a\",\"kind\":\"server\",\"counts\":[0,1,0,0,0,0,0,0,0],\"errors\":1}"))
      << json;
  EXPECT_TRUE(absl::StrContains(
      json,
      "{\"name\":\"POST "
      "/orders\",\"kind\":\"server\",\"counts\":[0,0,0,1,0,0,0,0,0],\"errors\":0}"));
  // Only one trace wanted: the newest.
  const std::string one = TracezJson(spans, TracezFilter(), "svc", 1);
  EXPECT_TRUE(absl::StrContains(one, "\"matching_traces\":2"));
  EXPECT_TRUE(absl::StrContains(one, failed.ToHex()));
  EXPECT_FALSE(absl::StrContains(one, slow.ToHex()));
}

TEST(Tracez, FilterFromAQueryString) {
  const TracezFilter filter = TracezFilterFromQuery("POST+%2Forders", "server", "1", "2.5", "", "");
  EXPECT_EQ(filter.name, "POST /orders");
  EXPECT_EQ(filter.kind, "server");
  EXPECT_TRUE(filter.errors_only);
  EXPECT_EQ(filter.min_ns, 2'500'000);
  const TracezFilter ranged = TracezFilterFromQuery("", "", "", "junk", "1000", "10000");
  EXPECT_EQ(ranged.min_ns, 1000);
  EXPECT_EQ(ranged.max_ns, 10000);
  EXPECT_FALSE(ranged.errors_only);
}

TEST(Rpcz, CountsStatusesBucketsAndExemplars) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "shop.Orders", "Create");
  registry.RegisterHttpRoute(Side::kServer, "GET", "/idle");
  Exemplar exemplar{};
  const TraceId trace = TraceId::Generate();
  std::copy(trace.bytes().begin(), trace.bytes().end(), exemplar.trace_id);
  exemplar.span_id[7] = 1;
  exemplar.unix_nanos = 1;
  for (int i = 0; i < 3; ++i) series->Start();
  series->Finish(0, 1'500'000, &exemplar);  // 1.5 ms: the le=2^-9 s bucket
  series->Finish(0, 1'600'000);
  series->Finish(14, 300'000'000);
  const std::string json = RpczJson(registry.Snapshot(), "svc");
  EXPECT_TRUE(
      absl::StrContains(json,
                        "\"protocol\":\"grpc\",\"side\":\"server\",\"name\":\"shop.Orders/Create\","
                        "\"other\":false,\"count\":3,\"errors\":1,\"in_flight\":0"))
      << json;
  EXPECT_TRUE(
      absl::StrContains(json,
                        "{\"code\":14,\"label\":\"14\",\"name\":\"UNAVAILABLE\",\"count\":1,"
                        "\"error\":true}"));
  EXPECT_TRUE(absl::StrContains(
      json, absl::StrCat("\"count\":2,\"exemplar\":{\"trace_id\":\"", trace.ToHex(),
                         "\",\"span_id\":\"0000000000000001\",\"value_ns\":1500000}")))
      << json;
  // Registered and idle: listed, with no buckets.
  EXPECT_TRUE(absl::StrContains(json, "\"name\":\"GET /idle\",\"other\":false,\"count\":0"));
}

// A loopback port that refuses connections (bound, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// A loopback socket that accepts connections into its backlog and never
// answers: a peer that hangs.
class SilentPeer {
 public:
  SilentPeer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 16);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentPeer() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string Header(const HttpResponse& response, const std::string& name) {
  return response.Header(name);
}

class AdminPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    front_ = testing::MakeTestTelemetry("front");
    back_ = testing::MakeTestTelemetry("back");
    auto back_admin = StartAdminListener(*back_);
    ASSERT_TRUE(back_admin.ok()) << back_admin.status();
    back_admin_ = *std::move(back_admin);
    AdminListenerOptions options;
    options.pages.peers = {{"back", back_admin_->grpc_address(), ""},
                           {"gone", absl::StrCat("127.0.0.1:", ClosedPort()), ""}};
    // Generous: the answering peer must answer even on a loaded machine.
    options.pages.trace.peer_deadline = absl::Seconds(20);
    auto front_admin = StartAdminListener(*front_, options);
    ASSERT_TRUE(front_admin.ok()) << front_admin.status();
    front_admin_ = *std::move(front_admin);

    // One trace: a front server span, a back child with a hostile name.
    Span server = front_->tracer().StartSpan("GET /orders/:id", {SpanKind::kServer});
    trace_id_ = server.context().trace_id().ToHex();
    StartSpanOptions child;
    child.kind = SpanKind::kServer;
    child.parent_choice = ParentChoice::kExplicit;
    child.parent = server.context();
    Span hostile = back_->tracer().StartSpan(kHostile, child);
    hostile.SetAttribute(kHostile, kHostile);
    hostile.AddEvent(kHostile);
    hostile.End();
    server.End();
  }

  std::unique_ptr<Telemetry> front_;
  std::unique_ptr<Telemetry> back_;
  std::unique_ptr<AdminListener> back_admin_;
  std::unique_ptr<AdminListener> front_admin_;
  std::string trace_id_;
};

TEST_F(AdminPagesTest, TracePageAssemblesPeersAndNamesTheMissingOnes) {
  absl::StatusOr<HttpResponse> page = HttpGet(front_admin_->http_port(), "/traces/" + trace_id_,
                                              {{"Accept", "text/html,*/*;q=0.8"}});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(Header(*page, "content-type"), "text/html; charset=utf-8");
  EXPECT_TRUE(absl::StartsWith(Header(*page, "content-security-policy"), "default-src 'none'"));
  const std::string& body = page->body;
  EXPECT_TRUE(absl::StrContains(body, absl::StrCat("\"trace_id\":\"", trace_id_, "\"")));
  EXPECT_TRUE(absl::StrContains(body, "{\"service\":\"front\",\"address\":\"\",\"state\":\"ok\""));
  EXPECT_TRUE(absl::StrContains(
      body, absl::StrCat("{\"service\":\"back\",\"address\":\"", back_admin_->grpc_address(),
                         "\",\"state\":\"ok\",\"detail\":\"\",\"spans\":1}")));
  EXPECT_TRUE(absl::StrContains(body, "{\"service\":\"gone\",\"address\":\"127.0.0.1:"));
  EXPECT_TRUE(absl::StrContains(body, "\"state\":\"unreachable\"")) << body;
  // Both spans, the back one nested under the front one.
  EXPECT_TRUE(
      absl::StrContains(body, "\"depth\":0,\"missing_parent\":false,\"name\":\"GET /orders/:id\""));
  EXPECT_TRUE(
      absl::StrContains(body, "\"depth\":1,\"missing_parent\":false,\"name\":\"\\u003c/script"));
  EXPECT_EQ(Count(body, "<script"), 3u);
  EXPECT_FALSE(absl::StrContains(body, "<img"));
}

TEST_F(AdminPagesTest, TraceJsonStaysForClientsThatDoNotAskForHtml) {
  for (const std::string accept : {"", "*/*", "application/json", "application/json, text/html"}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!accept.empty()) headers.emplace_back("Accept", accept);
    absl::StatusOr<HttpResponse> json =
        HttpGet(front_admin_->http_port(), "/traces/" + trace_id_, headers);
    ASSERT_TRUE(json.ok()) << json.status();
    EXPECT_EQ(json->status, 200) << accept;
    EXPECT_TRUE(absl::StartsWith(json->body, absl::StrCat("{\"trace_id\":\"", trace_id_)))
        << accept;
    EXPECT_TRUE(absl::StartsWith(Header(*json, "content-type"), "application/json")) << accept;
  }
  absl::StatusOr<HttpResponse> missing =
      HttpGet(front_admin_->http_port(), "/traces/0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(AdminPagesTest, BadOrUnknownTraceIsAPageNotAnErrorDocument) {
  const std::vector<std::pair<std::string, std::string>> html = {{"Accept", "text/html"}};
  absl::StatusOr<HttpResponse> bad =
      HttpGet(front_admin_->http_port(), "/traces/%3Cimg%20src=x%3E", html);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Header(*bad, "content-type"), "text/html; charset=utf-8");
  EXPECT_TRUE(absl::StrContains(bad->body, "\"error\":\"a trace id is 32 lowercase hex digits"));
  absl::StatusOr<HttpResponse> unknown =
      HttpGet(front_admin_->http_port(), "/traces/0123456789abcdef0123456789abcdef", html);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(absl::StrContains(unknown->body, "\"state\":\"no spans\""));
}

TEST_F(AdminPagesTest, TracezAndRpczAreServedWithTheirPolicy) {
  for (const std::string path :
       {"/tracez", "/tracez?name=GET+%2Forders%2F%3Aid&errors=1", "/rpcz"}) {
    absl::StatusOr<HttpResponse> page = HttpGet(front_admin_->http_port(), path);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->status, 200) << path;
    EXPECT_EQ(Header(*page, "content-type"), "text/html; charset=utf-8") << path;
    EXPECT_FALSE(Header(*page, "content-security-policy").empty()) << path;
    EXPECT_EQ(Header(*page, "x-content-type-options"), "nosniff");
  }
  absl::StatusOr<HttpResponse> filtered =
      HttpGet(front_admin_->http_port(), "/tracez?name=GET+%2Forders%2F%3Aid&errors=1");
  EXPECT_TRUE(absl::StrContains(filtered->body,
                                "\"name\":\"GET /orders/:id\",\"kind\":\"\","
                                "\"errors_only\":true"))
      << filtered->body;
  absl::StatusOr<HttpResponse> index = HttpGet(front_admin_->http_port(), "/");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->status, 302);
  EXPECT_EQ(Header(*index, "location"), "/tracez");
}

TEST(AdminPagesOptions, PagesCanBeTurnedOffAndBadOptionsAreRefused) {
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("plain");
  AdminListenerOptions off;
  off.pages.enabled = false;
  auto admin = StartAdminListener(*telemetry, off);
  ASSERT_TRUE(admin.ok()) << admin.status();
  absl::StatusOr<HttpResponse> tracez = HttpGet((*admin)->http_port(), "/tracez");
  ASSERT_TRUE(tracez.ok());
  EXPECT_EQ(tracez->status, 404);
  // The JSON trace endpoint is still there.
  absl::StatusOr<HttpResponse> trace = HttpGet(
      (*admin)->http_port(), "/traces/0123456789abcdef0123456789abcdef", {{"Accept", "text/html"}});
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->status, 404);
  EXPECT_EQ(Header(*trace, "content-type"), "text/plain; charset=utf-8");

  AdminListenerOptions bad;
  bad.pages.trace.peer_concurrency = 0;
  EXPECT_EQ(StartAdminListener(*telemetry, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = AdminListenerOptions();
  bad.pages.peers = {{"nowhere", "", ""}};
  EXPECT_EQ(StartAdminListener(*telemetry, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdminPagesOptions, PagesAreBehindTheListenersPolicy) {
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("guarded");
  AdminListenerOptions options;
  options.access.bearer_token = "pages-token-31c9";
  auto admin = StartAdminListener(*telemetry, options);
  ASSERT_TRUE(admin.ok()) << admin.status();
  for (const std::string path :
       {"/tracez", "/rpcz", "/traces/0123456789abcdef0123456789abcdef", "/"}) {
    absl::StatusOr<HttpResponse> refused =
        HttpGet((*admin)->http_port(), path, {{"Accept", "text/html"}});
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 401) << path;
  }
  absl::StatusOr<HttpResponse> page =
      HttpGet((*admin)->http_port(), "/rpcz", {{"Authorization", "Bearer pages-token-31c9"}});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
}

// A peer that never stops paging: every answer holds a 20 KB span of the
// trace asked for, a span of another trace, and a next page.
class EndlessPeer final : public v1::Query::Service {
 public:
  grpc::Status ListSpans(grpc::ServerContext*, const v1::ListSpansRequest* request,
                         v1::ListSpansResponse* response) override {
    const int call = ++calls;
    v1::Span* span = response->add_spans();
    *span = MakeSpan(absl::StrCat("endless", call), "", call);
    span->set_trace_id(request->trace_id());
    span->set_service_name("endless");
    v1::Attribute* padding = span->add_attributes();
    padding->set_key("padding");
    padding->set_string_value(std::string(20000, 'x'));
    v1::Span* stray = response->add_spans();
    *stray = MakeSpan(absl::StrCat("stray", call), "", call);
    stray->set_trace_id(std::string(32, 'a'));
    response->set_next_page_token(absl::StrCat("page", call));
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

TEST(TraceAssembler, AnEndlessPeerIsCutAtItsByteBoundAndStraySpansAreLeftOut) {
  EndlessPeer peer;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&peer);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("asker");
  TraceAssemblerOptions options;
  options.peer_max_total_bytes = 100000;  // five pages of 20 KB
  options.peer_deadline = absl::Seconds(30);
  TraceAssembler assembler(*telemetry, {{"", absl::StrCat("127.0.0.1:", port), ""}}, options);
  const TraceId id = TraceId::Generate();
  const AssembledTrace trace = assembler.Assemble(id);
  ASSERT_EQ(trace.sources.size(), 2u);
  EXPECT_EQ(trace.sources[0].state, "no spans");  // this process has none
  EXPECT_EQ(trace.sources[1].service, "endless");
  EXPECT_EQ(trace.sources[1].state, "partial");
  EXPECT_EQ(trace.sources[1].detail, "span or byte bound reached");
  EXPECT_EQ(peer.calls.load(), 5);
  ASSERT_EQ(trace.spans.size(), 5u);
  for (const v1::Span& span : trace.spans) EXPECT_EQ(span.trace_id(), id.ToHex());
  server->Shutdown();
}

TEST(TraceAssembler, APeerThatNeverAnswersIsGivenUpAtItsDeadline) {
  SilentPeer silent;
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("patient");
  TraceAssemblerOptions options;
  options.peer_deadline = absl::Milliseconds(300);
  const std::string address = absl::StrCat("127.0.0.1:", silent.port());
  TraceAssembler assembler(*telemetry, {{"", address, ""}}, options);
  const AssembledTrace trace = assembler.Assemble(TraceId::Generate());
  ASSERT_EQ(trace.sources.size(), 2u);
  // Named by its address while it has said nothing.
  EXPECT_EQ(trace.sources[1].service, address);
  EXPECT_EQ(trace.sources[1].state, "timed out") << trace.sources[1].detail;
  EXPECT_TRUE(trace.spans.empty());
}

// A peer whose admin listener wants a bearer token: refused without it,
// answering with it.
TEST(TraceAssembler, APeerThatRefusesIsShownAsRefusedAndATokenLetsItAnswer) {
  std::unique_ptr<Telemetry> back = testing::MakeTestTelemetry("guarded");
  AdminListenerOptions guarded;
  guarded.access.bearer_token = "s3cr3t-token";
  auto back_admin = StartAdminListener(*back, guarded);
  ASSERT_TRUE(back_admin.ok()) << back_admin.status();
  Span span = back->tracer().StartSpan("guarded work");
  const TraceId trace_id = span.context().trace_id();
  span.End();

  std::unique_ptr<Telemetry> front = testing::MakeTestTelemetry("front");
  const std::string address = (*back_admin)->grpc_address();
  const AssembledTrace refused =
      TraceAssembler(*front, {{"guarded", address, ""}}, TraceAssemblerOptions())
          .Assemble(trace_id);
  ASSERT_EQ(refused.sources.size(), 2u);
  EXPECT_EQ(refused.sources[1].service, "guarded");
  EXPECT_EQ(refused.sources[1].state, "refused") << refused.sources[1].detail;
  EXPECT_TRUE(refused.spans.empty());

  const AssembledTrace answered =
      TraceAssembler(*front, {{"guarded", address, "s3cr3t-token"}}, TraceAssemblerOptions())
          .Assemble(trace_id);
  ASSERT_EQ(answered.sources.size(), 2u);
  EXPECT_EQ(answered.sources[1].state, "ok") << answered.sources[1].detail;
  EXPECT_EQ(answered.spans.size(), 1u);
  (*back_admin)->Shutdown();
}

TEST(AdminPeers, ParsedFromAFlagValue) {
  absl::StatusOr<std::vector<AdminPeer>> peers =
      ParseAdminPeers(" orders=127.0.0.1:1 , 127.0.0.1:2");
  ASSERT_TRUE(peers.ok()) << peers.status();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].name, "orders");
  EXPECT_EQ((*peers)[0].address, "127.0.0.1:1");
  EXPECT_EQ((*peers)[1].name, "");
  EXPECT_EQ((*peers)[1].address, "127.0.0.1:2");
  EXPECT_TRUE(ParseAdminPeers("").ok());
  EXPECT_FALSE(ParseAdminPeers("a=1,,b=2").ok());
  EXPECT_FALSE(ParseAdminPeers("orders=").ok());
}

}  // namespace
}  // namespace tracebridge
