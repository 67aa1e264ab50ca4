#include "tracebridge/core/metrics/registry.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tracebridge {
namespace {

uint64_t StatusCountOf(const SeriesSnapshot& series, absl::string_view label) {
  for (const StatusCount& status : series.statuses) {
    if (status.label == label) return status.count;
  }
  return 0;
}

const SeriesSnapshot* FindSnapshot(const MetricsSnapshot& snapshot, Protocol protocol, Side side,
                                   absl::string_view scope, absl::string_view name) {
  for (const SeriesSnapshot& series : snapshot.series) {
    if (series.protocol == protocol && series.side == side && series.scope == scope &&
        series.name == name) {
      return &series;
    }
  }
  return nullptr;
}

uint64_t TotalHandled(const MetricsSnapshot& snapshot) {
  uint64_t total = 0;
  for (const SeriesSnapshot& series : snapshot.series) total += series.Handled();
  return total;
}

TEST(MetricsTest, RegistrationIsIdempotentAndPerSide) {
  Registry registry;
  Series* a = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  EXPECT_EQ(registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get"), a);
  EXPECT_NE(registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Get"), a);
  EXPECT_NE(registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Put"), a);
  EXPECT_EQ(registry.FindGrpcMethod(Side::kServer, "pkg.Svc", "Get"), a);
  EXPECT_EQ(registry.FindGrpcFullMethod(Side::kServer, "/pkg.Svc/Get"), a);
  EXPECT_EQ(a->protocol(), Protocol::kGrpc);
  EXPECT_EQ(a->scope(), "pkg.Svc");
  EXPECT_EQ(a->name(), "Get");
  EXPECT_FALSE(a->is_other());

  Series* route = registry.RegisterHttpRoute(Side::kServer, "GET", "/orders/:id");
  EXPECT_EQ(registry.FindHttpRoute(Side::kServer, "GET", "/orders/:id"), route);
  EXPECT_NE(registry.RegisterHttpRoute(Side::kServer, "POST", "/orders/:id"), route);
  EXPECT_EQ(registry.registered_count(), 5u);
}

TEST(MetricsTest, UnregisteredLookupsGoToOther) {
  Registry registry;
  registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  Series* other = registry.GrpcOther(Side::kServer);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->is_other());
  EXPECT_EQ(other->scope(), kOtherName);
  EXPECT_EQ(registry.FindGrpcMethod(Side::kServer, "pkg.Svc", "Nope"), other);
  EXPECT_EQ(registry.FindGrpcMethod(Side::kClient, "pkg.Svc", "Get"),
            registry.GrpcOther(Side::kClient));
  EXPECT_EQ(registry.FindGrpcFullMethod(Side::kServer, "not a method"), other);
  EXPECT_EQ(registry.FindGrpcFullMethod(Side::kServer, "/pkg.Svc/Get/x"), other);

  Series* get_other = registry.HttpOther(Side::kServer, "GET");
  EXPECT_EQ(get_other->scope(), "GET");
  EXPECT_EQ(get_other->name(), kOtherName);
  EXPECT_EQ(registry.FindHttpRoute(Side::kServer, "GET", "/raw/path/123"), get_other);
  // Unknown request methods share one `_OTHER` method series.
  EXPECT_EQ(registry.FindHttpRoute(Side::kServer, "BREW", "/pot"),
            registry.HttpOther(Side::kServer, "_OTHER"));
  EXPECT_EQ(registry.HttpOther(Side::kServer, "get"), registry.HttpOther(Side::kServer, "FOO"));
  // Registering the overflow series' own name does not make a duplicate.
  EXPECT_EQ(registry.RegisterHttpRoute(Side::kServer, "GET", "_OTHER"), get_other);
  EXPECT_EQ(registry.RegisterGrpcMethod(Side::kServer, "_OTHER", "X"), other);
  EXPECT_EQ(registry.registered_count(), 1u);
}

TEST(MetricsTest, HttpMethodsAreCanonicalised) {
  EXPECT_EQ(CanonicalHttpMethod("GET"), "GET");
  EXPECT_EQ(CanonicalHttpMethod("PATCH"), "PATCH");
  EXPECT_EQ(CanonicalHttpMethod("get"), "_OTHER");
  EXPECT_EQ(CanonicalHttpMethod(""), "_OTHER");
  Registry registry;
  Series* series = registry.RegisterHttpRoute(Side::kServer, "PROPFIND", "/dav");
  EXPECT_EQ(series->scope(), "_OTHER");
  EXPECT_FALSE(series->is_other());
  EXPECT_EQ(registry.FindHttpRoute(Side::kServer, "MKCOL", "/dav"), series);
}

TEST(MetricsTest, SplitsGrpcFullMethods) {
  absl::string_view service, method;
  ASSERT_TRUE(SplitGrpcFullMethod("/helloworld.Greeter/SayHello", &service, &method));
  EXPECT_EQ(service, "helloworld.Greeter");
  EXPECT_EQ(method, "SayHello");
  for (absl::string_view bad : {"", "/", "//", "/a/", "//b", "a/b", "/a/b/c", "/ab"}) {
    EXPECT_FALSE(SplitGrpcFullMethod(bad, &service, &method)) << bad;
  }
}

TEST(MetricsTest, ErrorRule) {
  for (int code = 0; code <= 16; ++code) {
    const bool server_error =
        code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
    EXPECT_EQ(IsErrorStatus(Protocol::kGrpc, Side::kServer, code), server_error) << code;
    EXPECT_EQ(IsErrorStatus(Protocol::kGrpc, Side::kClient, code), code != 0) << code;
  }
  EXPECT_TRUE(IsErrorStatus(Protocol::kGrpc, Side::kServer, 17));
  EXPECT_TRUE(IsErrorStatus(Protocol::kGrpc, Side::kServer, -1));
  EXPECT_FALSE(IsErrorStatus(Protocol::kHttp, Side::kServer, 200));
  EXPECT_FALSE(IsErrorStatus(Protocol::kHttp, Side::kServer, 404));
  EXPECT_TRUE(IsErrorStatus(Protocol::kHttp, Side::kClient, 404));
  EXPECT_TRUE(IsErrorStatus(Protocol::kHttp, Side::kServer, 503));
  EXPECT_FALSE(IsErrorStatus(Protocol::kHttp, Side::kClient, 302));
  EXPECT_TRUE(IsErrorStatus(Protocol::kHttp, Side::kServer, 99));
  EXPECT_TRUE(IsErrorStatus(Protocol::kHttp, Side::kClient, 600));
}

TEST(MetricsTest, RecordsAndDerives) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  for (int i = 0; i < 3; ++i) series->Start();
  series->Finish(0, 1'000'000);
  series->Finish(0, absl::Milliseconds(3));
  series->Finish(14, -5);  // negative durations count as 0
  series->Start();         // still in flight
  series->AddMessagesReceived();
  series->AddMessagesSent(2);
  series->AddRequestBytes(100);
  series->AddResponseBytes(250);

  const MetricsSnapshot snapshot = registry.Snapshot();
  const SeriesSnapshot* s =
      FindSnapshot(snapshot, Protocol::kGrpc, Side::kServer, "pkg.Svc", "Get");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->started, 4u);
  EXPECT_EQ(s->Handled(), 3u);
  EXPECT_EQ(s->InFlight(), 1u);
  EXPECT_EQ(s->Count(), 3u);
  EXPECT_EQ(s->Errors(), 1u);
  EXPECT_EQ(StatusCountOf(*s, "0"), 2u);
  EXPECT_EQ(StatusCountOf(*s, "14"), 1u);
  ASSERT_EQ(s->statuses.size(), 2u);
  EXPECT_EQ(s->statuses[1].code, 14);
  EXPECT_TRUE(s->statuses[1].error);
  EXPECT_EQ(s->messages_received, 1u);
  EXPECT_EQ(s->messages_sent, 2u);
  EXPECT_EQ(s->request_bytes, 100u);
  EXPECT_EQ(s->response_bytes, 250u);
  EXPECT_DOUBLE_EQ(s->latency.sum, 4e-3);
  EXPECT_EQ(s->latency.max, 3e-3);
  EXPECT_EQ(s->latency.min, 0.0);  // the negative duration
  EXPECT_EQ(s->latency.zero_count, 1u);
  EXPECT_DOUBLE_EQ(s->MeanSeconds(), 4e-3 / 3);
  EXPECT_DOUBLE_EQ(s->MaxSeconds(), 3e-3);
  EXPECT_LE(s->PercentileSeconds(0.99), 3e-3);
  EXPECT_GE(snapshot.uptime_seconds, 0.0);
}

TEST(MetricsTest, StatusSlots) {
  Registry registry;
  Series* grpc = registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Get");
  for (int code : {-1, 17, 1000, 16, 0}) grpc->Finish(code, 1);
  Series* http = registry.RegisterHttpRoute(Side::kServer, "GET", "/x");
  for (int code : {200, 200, 226, 299, 418, 499, 520, 599, 42, 600, -3}) http->Finish(code, 1);

  const MetricsSnapshot snapshot = registry.Snapshot();
  const SeriesSnapshot* g =
      FindSnapshot(snapshot, Protocol::kGrpc, Side::kClient, "pkg.Svc", "Get");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(StatusCountOf(*g, "other"), 3u);
  EXPECT_EQ(StatusCountOf(*g, "16"), 1u);
  EXPECT_EQ(StatusCountOf(*g, "0"), 1u);
  EXPECT_EQ(g->Errors(), 4u);  // client side: every non-OK

  const SeriesSnapshot* h = FindSnapshot(snapshot, Protocol::kHttp, Side::kServer, "GET", "/x");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(StatusCountOf(*h, "200"), 2u);
  EXPECT_EQ(StatusCountOf(*h, "226"), 1u);
  EXPECT_EQ(StatusCountOf(*h, "2xx"), 1u);
  EXPECT_EQ(StatusCountOf(*h, "418"), 1u);
  EXPECT_EQ(StatusCountOf(*h, "499"), 1u);
  EXPECT_EQ(StatusCountOf(*h, "5xx"), 2u);
  EXPECT_EQ(StatusCountOf(*h, "other"), 3u);
  EXPECT_EQ(h->Handled(), 11u);
  EXPECT_EQ(h->Errors(), 5u);  // 5xx (2) and out-of-range (3)
  // Exact codes ascending, then class slots, then "other".
  std::vector<std::string> labels;
  for (const StatusCount& status : h->statuses) labels.emplace_back(status.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"200", "226", "418", "499", "2xx", "5xx", "other"}));
  EXPECT_EQ(h->statuses[0].code, 200);
  EXPECT_EQ(h->statuses[4].code, -1);
}

TEST(MetricsTest, CapSendsRegistrationsToOtherAndConservesTotals) {
  RegistryOptions options;
  options.max_series = 3;
  Registry registry(options);
  std::vector<Series*> handles;
  for (int i = 0; i < 5; ++i) {
    handles.push_back(registry.RegisterHttpRoute(Side::kServer, "GET", absl::StrCat("/route/", i)));
  }
  EXPECT_EQ(registry.registered_count(), 3u);
  EXPECT_EQ(handles[3], registry.HttpOther(Side::kServer, "GET"));
  EXPECT_EQ(handles[4], registry.HttpOther(Side::kServer, "GET"));
  // Past the cap, an existing registration still resolves to its own series.
  EXPECT_EQ(registry.RegisterHttpRoute(Side::kServer, "GET", "/route/1"), handles[1]);
  EXPECT_EQ(registry.FindHttpRoute(Side::kServer, "GET", "/route/4"), handles[4]);

  for (Series* handle : handles) {
    handle->Start();
    handle->Finish(200, 1000);
  }
  registry.FindHttpRoute(Side::kServer, "GET", "/never")->Finish(200, 1000);
  const MetricsSnapshot snapshot = registry.Snapshot();
  EXPECT_EQ(TotalHandled(snapshot), 6u);
  const SeriesSnapshot* other =
      FindSnapshot(snapshot, Protocol::kHttp, Side::kServer, "GET", kOtherName);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->is_other);
  EXPECT_EQ(other->Handled(), 3u);
  EXPECT_EQ(other->started, 2u);
  // Registered series first, overflow last; idle overflow series left out.
  EXPECT_EQ(snapshot.series.size(), 4u);
  EXPECT_TRUE(snapshot.series.back().is_other);
}

TEST(MetricsTest, ZeroCapPutsEverythingInOther) {
  RegistryOptions options;
  options.max_series = 0;
  options.shards = 3;  // rounded up to 4
  Registry registry(options);
  EXPECT_EQ(registry.RegisterGrpcMethod(Side::kServer, "a", "b"),
            registry.GrpcOther(Side::kServer));
  EXPECT_EQ(registry.registered_count(), 0u);
}

TEST(MetricsTest, FourThreadsTimesAMillionConserveCounts) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1'000'000;
  Registry registry;
  Series* shared = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Hot");
  Series* route = registry.RegisterHttpRoute(Side::kServer, "GET", "/hot");
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        shared->Start();
        shared->Finish(i % 4 == 0 ? 14 : 0, (i % 1000) * 1000 + t);
        shared->AddMessagesSent();
        route->Finish(i % 2 == 0 ? 200 : 503, 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const MetricsSnapshot snapshot = registry.Snapshot();
  const SeriesSnapshot* s =
      FindSnapshot(snapshot, Protocol::kGrpc, Side::kServer, "pkg.Svc", "Hot");
  ASSERT_NE(s, nullptr);
  const uint64_t total = uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(s->started, total);
  EXPECT_EQ(s->Handled(), total);
  EXPECT_EQ(s->Count(), total);
  EXPECT_EQ(s->InFlight(), 0u);
  EXPECT_EQ(s->messages_sent, total);
  EXPECT_EQ(StatusCountOf(*s, "14"), total / 4);
  EXPECT_EQ(StatusCountOf(*s, "0"), total - total / 4);
  EXPECT_EQ(s->Errors(), total / 4);
  uint64_t expected_sum = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) expected_sum += (i % 1000) * 1000 + t;
  }
  EXPECT_DOUBLE_EQ(s->latency.sum, static_cast<double>(expected_sum) / 1e9);
  EXPECT_EQ(s->latency.max, (999'000 + kThreads - 1) / 1e9);
  EXPECT_EQ(s->latency.min, 0.0);
  const SeriesSnapshot* r = FindSnapshot(snapshot, Protocol::kHttp, Side::kServer, "GET", "/hot");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(StatusCountOf(*r, "200"), total / 2);
  EXPECT_EQ(StatusCountOf(*r, "503"), total / 2);
  EXPECT_EQ(r->latency.zero_count, total);
}

TEST(MetricsTest, SnapshotWhileRecordingAndRegistering) {
  constexpr int kWriters = 2;
  constexpr int kPerWriter = 200'000;
  constexpr int kRoutes = 300;
  Registry registry;
  Series* shared = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Hot");
  std::atomic<int> running{kWriters + 1};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerWriter; ++i) {
        shared->Start();
        shared->Finish(0, i);
        // Lock-free lookups race with registration below.
        registry.FindHttpRoute(Side::kServer, "GET", absl::StrCat("/r/", i % kRoutes))
            ->Finish(200, 1);
      }
      running.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kRoutes; ++i) {
      registry.RegisterHttpRoute(Side::kServer, "GET", absl::StrCat("/r/", i));
    }
    running.fetch_sub(1);
  });

  uint64_t last_started = 0, last_count = 0, last_routes = 0;
  int snapshots = 0;
  while (running.load() > 0 || snapshots == 0) {
    const MetricsSnapshot snapshot = registry.Snapshot();
    const SeriesSnapshot* s =
        FindSnapshot(snapshot, Protocol::kGrpc, Side::kServer, "pkg.Svc", "Hot");
    ASSERT_NE(s, nullptr);
    // Counters never go backwards between snapshots.
    EXPECT_GE(s->started, last_started);
    EXPECT_GE(s->Count(), last_count);
    EXPECT_GE(snapshot.series.size(), last_routes);
    last_started = s->started;
    last_count = s->Count();
    last_routes = snapshot.series.size() - (snapshot.series.back().is_other ? 1 : 0);
    ++snapshots;
  }
  for (auto& thread : threads) thread.join();

  const MetricsSnapshot final_snapshot = registry.Snapshot();
  const SeriesSnapshot* s =
      FindSnapshot(final_snapshot, Protocol::kGrpc, Side::kServer, "pkg.Svc", "Hot");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->started, uint64_t{kWriters} * kPerWriter);
  EXPECT_EQ(s->Count(), uint64_t{kWriters} * kPerWriter);
  EXPECT_EQ(registry.registered_count(), kRoutes + 1u);
  // Every route lookup landed in a route series or the overflow, exactly once.
  EXPECT_EQ(TotalHandled(final_snapshot), 2u * kWriters * kPerWriter);
}

// Writers on several threads replace the exemplars of a few buckets while a
// reader snapshots: every exemplar read is one writer's whole record (its
// ids, value and time all derive from one value), never a mix of two.
TEST(MetricsTest, ExemplarsAreNeverTorn) {
  constexpr int kWriters = 3;
  constexpr int kPerWriter = 100'000;
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Sampled");
  auto record_of = [](uint64_t value, Exemplar* out) {
    std::memcpy(out->trace_id, &value, 8);
    const uint64_t flipped = ~value;
    std::memcpy(out->trace_id + 8, &flipped, 8);
    const uint64_t span = value * 0x9E3779B97F4A7C15ull;
    std::memcpy(out->span_id, &span, 8);
    out->unix_nanos = static_cast<int64_t>(value * 3);
  };
  std::atomic<int> running{kWriters};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        // 1 µs … ~4 ms: a handful of classic buckets, so writers collide.
        const uint64_t value = 1'000 + (uint64_t{static_cast<uint32_t>(i)} * 7919 + t) % 4'000'000;
        Exemplar exemplar;
        record_of(value, &exemplar);
        series->Finish(0, static_cast<int64_t>(value), &exemplar);
      }
      running.fetch_sub(1);
    });
  }
  uint64_t checked = 0;
  while (running.load() > 0 || checked == 0) {
    for (const SeriesSnapshot& s : registry.Snapshot().series) {
      for (const BucketExemplar& e : s.exemplars) {
        Exemplar expected;
        record_of(e.value_ns, &expected);
        ASSERT_EQ(std::memcmp(e.call.trace_id, expected.trace_id, 16), 0) << e.value_ns;
        ASSERT_EQ(std::memcmp(e.call.span_id, expected.span_id, 8), 0) << e.value_ns;
        ASSERT_EQ(e.call.unix_nanos, expected.unix_nanos);
        ASSERT_EQ(e.bucket, ClassicLatencyBucketOfSlot(LatencySlot(e.value_ns)));
        ++checked;
      }
    }
  }
  for (auto& thread : writers) thread.join();
  EXPECT_GT(checked, 0u);
  const SeriesSnapshot s = registry.Snapshot().series.front();
  EXPECT_EQ(s.Count(), uint64_t{kWriters} * kPerWriter);
  // 1 µs … 4 ms spans classic buckets 1 (≤ 2^-19 s) to 13 (≤ 2^-7 s).
  EXPECT_EQ(s.exemplars.size(), 13u);
}

TEST(MetricsTest, AnExemplarStandsForAHundredMilliseconds) {
  Registry registry;
  Series* series = registry.RegisterHttpRoute(Side::kServer, "GET", "/x");
  constexpr int64_t kStart = 1'700'000'000'000'000'000;
  auto call = [&](uint8_t id, int64_t unix_nanos) {
    Exemplar exemplar = {{id}, {id}, unix_nanos};
    series->Finish(200, 2'000'000, &exemplar);  // one bucket throughout
    const std::vector<BucketExemplar> exemplars = registry.Snapshot().series.front().exemplars;
    return exemplars.size() == 1 ? exemplars[0].call.trace_id[0] : 0;
  };
  EXPECT_EQ(call(1, kStart), 1);                   // empty slot: taken
  EXPECT_EQ(call(2, kStart + 99'000'000), 1);      // 99 ms later: kept
  EXPECT_EQ(call(3, kStart + 100'000'000), 3);     // 100 ms later: replaced
  EXPECT_EQ(call(5, kStart + 50'000'000), 3);      // ended a little earlier: kept
  EXPECT_EQ(call(4, kStart - 10'000'000'000), 4);  // clock stepped back: replaced
  series->Finish(200, 2'000'000);                  // unsampled: leaves it alone
  EXPECT_EQ(registry.Snapshot().series.front().exemplars[0].call.trace_id[0], 4);
}

TEST(MetricsTest, CollectorsRunAtSnapshotAndCanBeRemoved) {
  Registry registry;
  int calls = 0;
  const int id = registry.AddCollector([&calls](std::vector<MetricFamily>* out) {
    ++calls;
    MetricFamily family;
    family.name = "tracebridge_spans_dropped_total";
    family.help = "Spans dropped.";
    family.type = MetricType::kCounter;
    family.samples.push_back({{{"reason", "queue_full"}}, 3});
    out->push_back(std::move(family));
  });
  MetricsSnapshot snapshot = registry.Snapshot();
  ASSERT_EQ(snapshot.families.size(), 1u);
  EXPECT_EQ(snapshot.families[0].name, "tracebridge_spans_dropped_total");
  EXPECT_EQ(snapshot.families[0].samples[0].value, 3);
  EXPECT_EQ(calls, 1);
  registry.RemoveCollector(id);
  snapshot = registry.Snapshot();
  EXPECT_TRUE(snapshot.families.empty());
  EXPECT_EQ(calls, 1);
}

// Labels leave the process as valid UTF-8; two names that differ only in
// ill-formed bytes would otherwise become two series with the same labels.
TEST(RegistryTest, NamesAreStoredRepairedAndShareASeries) {
  Registry registry;
  Series* a = registry.RegisterHttpRoute(Side::kServer, "GET", "/caf\xff");
  Series* b = registry.RegisterHttpRoute(Side::kServer, "GET", "/caf\xfe");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a->name(), "/caf\xEF\xBF\xBD");
  Series* grpc = registry.RegisterGrpcMethod(Side::kClient, "pkg.S\xc3", "M\x80");
  EXPECT_EQ(grpc->scope(), "pkg.S\xEF\xBF\xBD");
  EXPECT_EQ(grpc->name(), "M\xEF\xBF\xBD");
  EXPECT_EQ(registry.RegisterGrpcMethod(Side::kClient, "pkg.S\xc3", "M\x80"), grpc);
  EXPECT_EQ(registry.registered_count(), 2u);
}
}  // namespace
}  // namespace tracebridge
