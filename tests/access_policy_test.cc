// AccessPolicy: the bearer token's parsing and comparison, the predicate,
// and what a throwing predicate does. (Over real gRPC and HTTP connections:
// admin_listener_test.)

#include "tracebridge/core/access_policy.h"

#include <map>
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

class FakeRequest final : public AccessRequest {
 public:
  explicit FakeRequest(std::map<std::string, std::string> headers) : headers_(std::move(headers)) {}
  absl::string_view protocol() const override { return "http"; }
  absl::string_view path() const override { return "/metrics"; }
  std::string peer() const override { return "127.0.0.1:4000"; }
  std::string Header(absl::string_view name) const override {
    auto it = headers_.find(std::string(name));
    return it == headers_.end() ? "" : it->second;
  }

 private:
  std::map<std::string, std::string> headers_;
};

AccessDecision Decide(const AccessPolicy& policy, const std::string& authorization) {
  std::map<std::string, std::string> headers;
  if (!authorization.empty()) headers["authorization"] = authorization;
  return CheckAccess(policy, FakeRequest(headers));
}

TEST(AccessPolicyTest, BearerTokenParsing) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER   abc  "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken(""), "");
}

TEST(AccessPolicyTest, AnOpenPolicyAdmitsEveryone) {
  AccessPolicy policy;
  EXPECT_TRUE(policy.IsOpen());
  EXPECT_EQ(Decide(policy, ""), AccessDecision::kAllowed);
}

TEST(AccessPolicyTest, TheTokenMustMatchExactly) {
  AccessPolicy policy;
  policy.bearer_token = "s3cret-token";
  EXPECT_FALSE(policy.IsOpen());
  EXPECT_EQ(Decide(policy, ""), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "Bearer wrong"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "Bearer s3cret-toke"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "Bearer s3cret-token2"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "Bearer S3CRET-TOKEN"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "Basic s3cret-token"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "s3cret-token"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(Decide(policy, "Bearer s3cret-token"), AccessDecision::kAllowed);
  EXPECT_EQ(Decide(policy, "bearer s3cret-token"), AccessDecision::kAllowed);
}

TEST(AccessPolicyTest, ThePredicateRunsAfterTheToken) {
  AccessPolicy policy;
  policy.bearer_token = "t";
  int calls = 0;
  policy.allow = [&calls](const AccessRequest& request) {
    ++calls;
    return request.Header("x-team") == "observability" && request.path() == "/metrics";
  };
  EXPECT_EQ(Decide(policy, "Bearer nope"), AccessDecision::kUnauthenticated);
  EXPECT_EQ(calls, 0);  // a request without the token never reaches it
  EXPECT_EQ(Decide(policy, "Bearer t"), AccessDecision::kDenied);
  EXPECT_EQ(CheckAccess(policy,
                        FakeRequest({{"authorization", "Bearer t"}, {"x-team", "observability"}})),
            AccessDecision::kAllowed);
  EXPECT_EQ(calls, 2);
}

TEST(AccessPolicyTest, APredicateThatThrowsDenies) {
  AccessPolicy policy;
  policy.allow = [](const AccessRequest&) -> bool { throw std::runtime_error("broken"); };
  EXPECT_EQ(Decide(policy, ""), AccessDecision::kDenied);
}

}  // namespace
}  // namespace tracebridge
