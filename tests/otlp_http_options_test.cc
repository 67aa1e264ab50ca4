// OTLP/HTTP configuration without a network: which URL the environment
// variables produce (the specification's endpoint rules), the protocol
// switch, URL and header validation, Retry-After parsing and the retryable
// statuses. The exporter on the wire is tested against Python's http.server
// (tests/interop/otlp_http_python).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tracebridge/exporters/otlp/otlp_http_exporter.h"
#include "tracebridge/exporters/otlp/otlp_http_transport.h"
#include "tracebridge/exporters/otlp/otlp_options.h"
#include "tracebridge/exporters/otlp/otlp_span_exporter.h"

namespace tracebridge {
namespace {

using Env = std::map<std::string, std::string>;

absl::StatusOr<OtlpExporterOptions> FromEnv(const Env& env) {
  return OtlpExporterOptions::FromEnvironment(
      [&env](const char* name) -> absl::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return absl::nullopt;
        return it->second;
      });
}

TEST(OtlpHttpOptionsTest, EndpointRulesOfTheSpecification) {
  const std::vector<std::pair<Env, std::string>> cases = {
      // The generic variable is a base URL for v1/traces.
      {{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}},
       "http://collector:4318/v1/traces"},
      {{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/mycollector/"}},
       "http://collector:4318/mycollector/v1/traces"},
      {{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/mycollector"}},
       "http://collector:4318/mycollector/v1/traces"},
      // The signal's own variable is used as it is, and wins.
      {{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318"}},
       "http://traces:4318"},
      {{{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:9/v1/traces/"}}, "http://c:9/v1/traces/"},
      // An empty value counts as unset.
      {{{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", " "},
        {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"}},
       "http://generic:4318/v1/traces"},
      // Nothing set: the protocol's default (left empty).
      {{}, ""},
  };
  for (auto [env, expected] : cases) {
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
    absl::StatusOr<OtlpExporterOptions> options = FromEnv(env);
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->protocol, OtlpProtocol::kHttpProtobuf);
    EXPECT_EQ(options->endpoint, expected);
  }
}

TEST(OtlpHttpOptionsTest, ProtocolVariables) {
  auto protocol = [](const Env& env) { return FromEnv(env)->protocol; };
  EXPECT_EQ(protocol({}), OtlpProtocol::kGrpc);
  EXPECT_EQ(protocol({{"OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/Protobuf"}}),
            OtlpProtocol::kHttpProtobuf);
  EXPECT_EQ(protocol({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                      {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"}}),
            OtlpProtocol::kGrpc);
  // The gRPC endpoint rules still apply under grpc: a path is an error.
  EXPECT_FALSE(FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317/v1/traces"}}).ok());
  for (const auto& [name, value, expected] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "http/json is not supported"},
           {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift", "neither grpc nor http/protobuf"},
       }) {
    absl::StatusOr<OtlpExporterOptions> options = FromEnv({{name, value}});
    ASSERT_FALSE(options.ok()) << value;
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(options.status().message().find(name), absl::string_view::npos) << options.status();
    EXPECT_NE(options.status().message().find(expected), absl::string_view::npos)
        << options.status();
  }
}

TEST(OtlpHttpOptionsTest, MalformedHttpSettingsNameTheVariable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector:4318/v1/traces"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:99999"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://user@collector:4318"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1:4318"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "bad key=1"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "content-type=text/plain"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "x=a%0Db"},
  };
  for (const auto& [name, value] : cases) {
    SCOPED_TRACE(name + "=" + value);
    absl::StatusOr<OtlpExporterOptions> options =
        FromEnv({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}, {name, value}});
    ASSERT_FALSE(options.ok());
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(options.status().message().find(name), absl::string_view::npos) << options.status();
  }
}

TEST(OtlpHttpOptionsTest, UrlsTakenApart) {
  auto parse = [](absl::string_view url) { return internal::ParseOtlpHttpUrl(url); };
  auto url = parse("http://collector:4318/v1/traces?tenant=a#frag");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "collector");
  EXPECT_EQ(url->port, 4318);
  EXPECT_EQ(url->target, "/v1/traces?tenant=a");
  EXPECT_EQ(url->host_header, "collector:4318");
  url = parse("HTTP://[::1]:9/");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->host_header, "[::1]:9");
  url = parse("http://collector");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 80);  // the scheme's port, as the specification says
  EXPECT_EQ(url->target, "/");
  url = parse("https://collector?x");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/?x");
  url = parse("");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host_header, "localhost:4318");
  EXPECT_EQ(url->target, "/v1/traces");
  for (absl::string_view bad : {"http://", "http://:80/", "http://a b/", "http://h:0/",
                                "http://h:x/", "http://[::1]x/", "mailto:x"}) {
    EXPECT_FALSE(parse(bad).ok()) << bad;
  }
}

TEST(OtlpHttpOptionsTest, CreateChecksWhatTheExporterCanDo) {
  OtlpExporterOptions options;
  options.protocol = OtlpProtocol::kHttpProtobuf;
  auto exporter = OtlpHttpExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  EXPECT_EQ((*exporter)->url(), "http://localhost:4318/v1/traces");
  EXPECT_EQ((*exporter)->Name(), "otlp_http");

  options.endpoint = "https://collector:4318/v1/traces";
  EXPECT_NE(OtlpHttpExporter::Create(options).status().message().find("plain http only"),
            absl::string_view::npos);
  options.endpoint = "http://collector:4318/v1/traces";
  options.headers = {{"Host", "elsewhere"}};
  EXPECT_EQ(OtlpHttpExporter::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  // HTTP allows what gRPC metadata does not (uppercase names), and not the
  // reverse (binary values).
  options.headers = {{"X-Api-Key", "k"}};
  EXPECT_TRUE(OtlpHttpExporter::Create(options).ok());
  options.headers = {{"token-bin", std::string("\x00\x01", 2)}};
  EXPECT_FALSE(OtlpHttpExporter::Create(options).ok());
  options.headers.clear();
  options.max_response_bytes = 0;
  EXPECT_FALSE(OtlpHttpExporter::Create(options).ok());

  // The protocol picks the exporter.
  OtlpExporterOptions http;
  http.protocol = OtlpProtocol::kHttpProtobuf;
  auto chosen = CreateOtlpSpanExporter(http);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ((*chosen)->Name(), "otlp_http");
  chosen = CreateOtlpSpanExporter(OtlpExporterOptions());
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ((*chosen)->Name(), "otlp");
}

TEST(OtlpHttpOptionsTest, RetryAfterInEveryForm) {
  const absl::Time now = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_GT(*ParseRetryAfter("99999999999999999999", now), absl::Hours(24 * 365));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now), absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", now), absl::Seconds(60));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:39 1994", now), absl::Seconds(2));
  // A date already past means "now".
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), absl::ZeroDuration());
  for (absl::string_view bad : {"", "soon", "-5", "1.5", "Sun, 06 Nov 1994", "12abc"}) {
    EXPECT_FALSE(ParseRetryAfter(bad, now).has_value()) << bad;
  }
}

TEST(OtlpHttpOptionsTest, RetryableStatuses) {
  for (int status : {429, 502, 503, 504}) EXPECT_TRUE(IsRetryableOtlpHttpStatus(status)) << status;
  for (int status : {200, 301, 400, 401, 403, 404, 408, 413, 500, 501, 505}) {
    EXPECT_FALSE(IsRetryableOtlpHttpStatus(status)) << status;
  }
}

}  // namespace
}  // namespace tracebridge
