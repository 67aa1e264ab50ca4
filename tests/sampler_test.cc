// Sampler decision rules, each against its documented contract.

#include "tracebridge/core/trace/sampler.h"

#include <random>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

// Deterministic ids, so statistical assertions cannot flake.
std::vector<TraceId> SeededIds(size_t count) {
  std::mt19937_64 random(12345);
  std::vector<TraceId> ids;
  for (size_t i = 0; i < count; ++i) {
    uint8_t bytes[16];
    for (int b = 0; b < 16; b += 8) {
      uint64_t word = random();
      std::memcpy(bytes + b, &word, 8);
    }
    ids.push_back(TraceId::FromBytes(bytes));
  }
  return ids;
}

bool Decide(Sampler& sampler, const TraceId& id, const SpanContext& parent = SpanContext()) {
  return sampler.ShouldSample(SamplingParams{parent, id, "op", SpanKind::kServer});
}

TraceId IdWithRandomPart(uint64_t low56) {
  uint8_t bytes[16] = {1};
  for (int i = 0; i < 8; ++i) bytes[15 - i] = static_cast<uint8_t>(low56 >> (8 * i));
  return TraceId::FromBytes(bytes);
}

TEST(SamplerTest, Constants) {
  TraceId id = TraceId::Generate();
  EXPECT_TRUE(Decide(*AlwaysOnSampler(), id));
  EXPECT_FALSE(Decide(*AlwaysOffSampler(), id));
  EXPECT_EQ(AlwaysOnSampler()->Description(), "AlwaysOn");
  EXPECT_EQ(AlwaysOffSampler()->Description(), "AlwaysOff");
}

TEST(SamplerTest, RatioIsDeterministicAcrossInstances) {
  auto a = TraceIdRatioSampler(0.3);
  auto b = TraceIdRatioSampler(0.3);
  for (const TraceId& id : SeededIds(10000)) ASSERT_EQ(Decide(*a, id), Decide(*b, id));
}

TEST(SamplerTest, RatioSamplesTheConfiguredFraction) {
  const auto ids = SeededIds(200000);
  for (double ratio : {0.01, 0.1, 0.25, 0.5, 0.9}) {
    auto sampler = TraceIdRatioSampler(ratio);
    size_t kept = 0;
    for (const TraceId& id : ids) kept += Decide(*sampler, id);
    // Seeded ids: a fixed outcome; the bound is ~5 standard deviations.
    EXPECT_NEAR(static_cast<double>(kept) / ids.size(), ratio, 0.006) << ratio;
  }
}

TEST(SamplerTest, RatioThresholdRule) {
  auto half = TraceIdRatioSampler(0.5);
  const uint64_t threshold = uint64_t{1} << 55;  // (1 - 0.5) * 2^56
  EXPECT_TRUE(Decide(*half, IdWithRandomPart(threshold)));
  EXPECT_FALSE(Decide(*half, IdWithRandomPart(threshold - 1)));
  EXPECT_TRUE(Decide(*half, IdWithRandomPart((uint64_t{1} << 56) - 1)));
  EXPECT_FALSE(Decide(*TraceIdRatioSampler(0), IdWithRandomPart((uint64_t{1} << 56) - 1)));
  EXPECT_TRUE(Decide(*TraceIdRatioSampler(1), IdWithRandomPart(0)));
  EXPECT_FALSE(Decide(*TraceIdRatioSampler(-3), IdWithRandomPart(12345)));
  EXPECT_EQ(TraceIdRatioSampler(0.25)->Description(), "TraceIdRatioBased{0.250000}");
}

TEST(SamplerTest, ParentBasedFollowsEachParentKind) {
  TraceId id = TraceId::Generate();
  SpanContext remote_sampled(id, SpanId::Generate(), TraceFlags(1), true);
  SpanContext remote_unsampled(id, SpanId::Generate(), TraceFlags(0), true);
  SpanContext local_sampled(id, SpanId::Generate(), TraceFlags(1), false);
  SpanContext local_unsampled(id, SpanId::Generate(), TraceFlags(0), false);

  auto defaults = ParentBasedSampler(AlwaysOffSampler());
  EXPECT_FALSE(Decide(*defaults, id));  // root asks the root sampler
  EXPECT_TRUE(Decide(*defaults, id, remote_sampled));
  EXPECT_FALSE(Decide(*defaults, id, remote_unsampled));
  EXPECT_TRUE(Decide(*defaults, id, local_sampled));
  EXPECT_FALSE(Decide(*defaults, id, local_unsampled));

  ParentBasedOptions inverted;
  inverted.remote_parent_sampled = AlwaysOffSampler();
  inverted.remote_parent_not_sampled = AlwaysOnSampler();
  inverted.local_parent_sampled = AlwaysOffSampler();
  inverted.local_parent_not_sampled = AlwaysOnSampler();
  auto custom = ParentBasedSampler(AlwaysOnSampler(), inverted);
  EXPECT_TRUE(Decide(*custom, id));
  EXPECT_FALSE(Decide(*custom, id, remote_sampled));
  EXPECT_TRUE(Decide(*custom, id, remote_unsampled));
  EXPECT_FALSE(Decide(*custom, id, local_sampled));
  EXPECT_TRUE(Decide(*custom, id, local_unsampled));
  EXPECT_EQ(defaults->Description(),
            "ParentBased{root=AlwaysOff,remoteParentSampled=AlwaysOn,remoteParentNotSampled="
            "AlwaysOff,localParentSampled=AlwaysOn,localParentNotSampled=AlwaysOff}");
}

int64_t fake_now = 0;
int64_t FakeNow() { return fake_now; }

TEST(SamplerTest, RateLimitingAllowsBurstThenRate) {
  fake_now = 1000000000;
  auto sampler = internal::RateLimitingSamplerWithClock(10, &FakeNow);
  TraceId id = TraceId::Generate();
  int kept = 0;
  for (int i = 0; i < 100; ++i) kept += Decide(*sampler, id);
  EXPECT_EQ(kept, 10);  // a burst of max(1, rate)
  // Over the next 5 seconds, 10 per second more.
  kept = 0;
  for (int step = 0; step < 500; ++step) {
    fake_now += 10000000;  // 10 ms
    for (int i = 0; i < 10; ++i) kept += Decide(*sampler, id);
  }
  EXPECT_EQ(kept, 50);
  EXPECT_EQ(sampler->Description(), "RateLimiting{10/s}");
  EXPECT_FALSE(Decide(*RateLimitingSampler(0), id));
}

TEST(SamplerTest, AdaptiveConvergesTowardTheTarget) {
  fake_now = 5000000000;
  auto sampler = internal::AdaptiveSamplerWithClock(100, 0.001, 1.0, &FakeNow);
  const auto ids = SeededIds(10000);
  size_t next = 0;
  // 10,000 candidates per second for 20 seconds; the target is 100/s.
  size_t kept_last_second = 0;
  for (int second = 0; second < 20; ++second) {
    kept_last_second = 0;
    for (int i = 0; i < 10000; ++i) {
      fake_now += 100000;  // 0.1 ms
      kept_last_second += Decide(*sampler, ids[next++ % ids.size()]);
    }
  }
  EXPECT_NEAR(static_cast<double>(kept_last_second), 100.0, 30.0);
}

TEST(SamplerTest, AdaptiveStaysWithinBounds) {
  fake_now = 0;
  auto sampler = internal::AdaptiveSamplerWithClock(1, 0.5, 0.8, &FakeNow);
  const auto ids = SeededIds(20000);
  size_t kept = 0;
  for (int second = 0; second < 10; ++second) {
    for (int i = 0; i < 2000; ++i) {
      fake_now += 500000;
      kept += Decide(*sampler, ids[second * 2000 + i]);
    }
  }
  // Never below the 0.5 floor, however far over target.
  EXPECT_GE(static_cast<double>(kept) / 20000, 0.45);
  EXPECT_LE(static_cast<double>(kept) / 20000, 0.85);
}

}  // namespace
}  // namespace tracebridge
