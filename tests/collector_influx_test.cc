// The collector against a real InfluxDB 1.6 (Debian's influxd, started here
// on loopback with its own directories and ports) and real traced gRPC
// servers:
//
//   - line protocol: awkward names and strings written, read back by InfluxQL;
//   - traffic through two instances of one service and one of another: the
//     counts in InfluxDB equal the calls made, per status too; the merged p99
//     of the two instances is within 2% of the exact p99 of every call's
//     duration (each call's server span duration, which the interceptor
//     measures alongside the metric); a restarted instance is a reset;
//   - dead, non-gRPC and silent targets are marked down every round while
//     the others go on;
//   - InfluxDB killed and restarted: what fits the buffer is written after
//     the restart, and exactly the rest is counted as dropped.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/influxdb.h"
#include "tests/testing/test_telemetry.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/collector/collector.h"
#include "tracebridge/collector/influx_writer.h"
#include "tracebridge/collector/influxdb_local.h"
#include "tracebridge/collector/line_protocol.h"

namespace tracebridge {
namespace {

using testing::InfluxRow;
using testing::InfluxServer;

constexpr char kUnary[] = "tracebridge.testing.Echo/Unary";

class CollectorInfluxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = InfluxServer::Start(testing::TestTempDir() + "/influx-shared");
    ASSERT_TRUE(started.ok()) << started.status();
    influx_ = started->release();
  }
  static void TearDownTestSuite() {
    delete influx_;
    influx_ = nullptr;
  }

  static std::vector<InfluxRow> Query(const std::string& db, const std::string& q) {
    absl::StatusOr<std::vector<InfluxRow>> rows = influx_->Query(db, q);
    EXPECT_TRUE(rows.ok()) << q << ": " << rows.status();
    return rows.ok() ? *rows : std::vector<InfluxRow>();
  }

  static InfluxServer* influx_;
};
InfluxServer* CollectorInfluxTest::influx_ = nullptr;

int64_t Int(const std::string& text) {
  int64_t value = -1;
  EXPECT_TRUE(absl::SimpleAtoi(text, &value)) << text;
  return value;
}

// Messages the collector logged.
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> Sink() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.push_back(line);
    };
  }
  bool Has(const std::string& part) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const std::string& line : lines) {
      if (line.find(part) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_F(CollectorInfluxTest, LineProtocolNamesAndStringsRoundTrip) {
  InfluxWriterOptions options;
  options.url = influx_->url();
  options.database = "escaping";
  options.precision = "ns";
  auto writer = InfluxWriter::Start(options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::vector<std::string> tags = {"a b",    "x,y",  "k=v",     "back\\slash", "quo\"te",
                                         "ends\\", "uñí😀", "\\ lead", "tab\there",   "multi\nline"};
  std::vector<std::string> lines;
  for (size_t i = 0; i < tags.size(); ++i) {
    LinePoint point;
    point.measurement = "odd name,1";
    point.tags = {{"t", tags[i]}};
    point.fields = {{"i", static_cast<int64_t>(i)},
                    {"s", absl::StrCat("\"", tags[i], "\" \\", "\n,= end\\")}};
    point.timestamp = static_cast<int64_t>(i + 1);
    std::string line;
    ASSERT_TRUE(AppendLineProtocol(point, &line));
    line.pop_back();
    lines.push_back(line);
  }
  EXPECT_EQ((*writer)->Offer(lines), tags.size());
  ASSERT_TRUE((*writer)->WaitUntilFlushed(absl::Seconds(20)));
  EXPECT_EQ((*writer)->stats().written, tags.size());
  EXPECT_EQ((*writer)->stats().rejected, 0u);

  std::vector<InfluxRow> rows = Query("escaping", "SELECT * FROM \"odd name,1\"");
  ASSERT_EQ(rows.size(), tags.size());
  for (const InfluxRow& row : rows) {
    const size_t i = static_cast<size_t>(Int(row.at("i")));
    ASSERT_LT(i, tags.size());
    std::string expected = tags[i];
    // What line protocol 1.x cannot carry (see collector/line_protocol.h).
    if (expected == "ends\\") expected = "ends/";
    if (expected == "multi\nline") expected = "multi line";
    if (expected == "\\ lead") expected = "/ lead";
    EXPECT_EQ(row.at("t"), expected) << i;
    EXPECT_EQ(row.at("s"), absl::StrCat("\"", tags[i], "\" \\", "\n,= end\\")) << i;
  }
}

// A server, its telemetry and its echo service: one instance.
struct Instance {
  Instance(const std::string& service, const std::string& instance, int admin_grpc_port = 0)
      : telemetry(testing::MakeTestTelemetry(
            service, testing::kAllPropagators, [&](TelemetryBuilder& builder) {
              builder.SetDefaultSpanFile(testing::TestTempDir() + "/" + instance + ".jsonl");
            })) {
    InstallOptions options;
    options.admin.grpc_port = admin_grpc_port;
    server = testing::StartTracedServer(*telemetry, {&echo}, std::move(options));
    stub = testing::Echo::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  }

  // Unary calls with these delays (ms) and status codes, 8 at a time.
  void Call(const std::vector<std::pair<int, int>>& calls) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < calls.size();) {
        grpc::ClientContext context;
        context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
        testing::EchoRequest request;
        request.set_delay_ms(calls[i].first);
        request.set_status_code(calls[i].second);
        testing::EchoResponse response;
        const grpc::Status status = stub->Unary(&context, request, &response);
        EXPECT_EQ(static_cast<int>(status.error_code()), calls[i].second);
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) threads.emplace_back(work);
    for (std::thread& thread : threads) thread.join();
    handled += calls.size();
    // Every call is in the registry (and its span in the store) before a
    // round may look.
    EXPECT_FALSE(testing::WaitForSeries(*telemetry, Side::kServer, "tracebridge.testing.Echo",
                                        "Unary", handled)
                     .name.empty());
  }

  // Durations of every Unary server span stored so far, in seconds.
  std::vector<double> SpanSeconds() {
    std::vector<double> out;
    for (const StoredSpan& stored : telemetry->span_store()->MostRecent(100000)) {
      if (stored.span->kind == SpanKind::kServer && stored.span->name == kUnary) {
        out.push_back(static_cast<double>(stored.span->DurationNanos()) / 1e9);
      }
    }
    return out;
  }

  std::string admin() const { return server.admin_grpc_address(); }
  int admin_port() const { return std::stoi(admin().substr(admin().rfind(':') + 1)); }

  std::unique_ptr<Telemetry> telemetry;
  testing::EchoServiceImpl echo;
  testing::TracedServer server;
  std::unique_ptr<testing::Echo::Stub> stub;
  uint64_t handled = 0;
};

// A listening socket nobody accepts on: connections open, nothing answers.
struct SilentListener {
  SilentListener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(fd, 16), 0);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd); }
  int fd = -1;
  int port = 0;
};

// Nearest rank, as the histograms define it.
double ExactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * values.size())));
  return values[rank - 1];
}

std::vector<std::pair<int, int>> Delays(int n, int base, int step, int spread, int code = 0) {
  std::vector<std::pair<int, int>> calls;
  for (int i = 0; i < n; ++i) calls.emplace_back(base + (i * step) % spread, code);
  return calls;
}

TEST_F(CollectorInfluxTest, CountsEqualTrafficAndMergedP99MatchesRawDurations) {
  auto alpha_a = std::make_unique<Instance>("alpha", "alpha-a");
  auto alpha_b = std::make_unique<Instance>("alpha", "alpha-b");
  auto beta = std::make_unique<Instance>("beta", "beta-1");
  absl::StatusOr<int> dead_port = PickFreeLoopbackPort();
  ASSERT_TRUE(dead_port.ok());
  SilentListener silent;

  LogLines log;
  CollectorOptions options;
  for (const std::string& spec :
       {absl::StrCat("alpha/a=", alpha_a->admin()), absl::StrCat("alpha/b=", alpha_b->admin()),
        beta->admin(),  // named by the service itself
        absl::StrCat("dead=127.0.0.1:", *dead_port),
        absl::StrCat("garbage=127.0.0.1:", influx_->http_port()),  // HTTP/1.1, not gRPC
        absl::StrCat("silent=127.0.0.1:", silent.port)}) {
    absl::StatusOr<CollectorTarget> target = ParseCollectorTarget(spec);
    ASSERT_TRUE(target.ok()) << target.status();
    options.targets.push_back(*target);
  }
  options.poll_timeout = absl::Milliseconds(500);
  options.interval = absl::Seconds(1);
  options.influx.url = influx_->url();
  options.influx.database = "traffic";
  options.influx.precision = "ns";
  options.log = log.Sink();
  auto collector = MetricsCollector::Create(options);
  ASSERT_TRUE(collector.ok()) << collector.status();

  // Round 1: a baseline (the servers were running before the collector).
  (*collector)->CollectOnce();

  // Interval 2: alpha on both instances, with known delays; beta.
  alpha_a->Call(Delays(60, 1, 7, 23));  // 1-23 ms
  alpha_a->Call(Delays(5, 0, 0, 1, /*NOT_FOUND*/ 5));
  alpha_b->Call(Delays(40, 5, 11, 37));  // 5-41 ms
  alpha_b->Call(Delays(3, 0, 0, 1, /*UNAVAILABLE*/ 14));
  beta->Call(Delays(30, 2, 0, 1));
  beta->Call(Delays(2, 0, 0, 1, /*INTERNAL*/ 13));
  std::vector<double> raw = alpha_a->SpanSeconds();
  for (double seconds : alpha_b->SpanSeconds()) raw.push_back(seconds);
  ASSERT_EQ(raw.size(), 108u);
  (*collector)->CollectOnce();

  // Interval 3: more of both.
  alpha_a->Call(Delays(10, 1, 1, 3));
  beta->Call(Delays(5, 1, 0, 1));
  (*collector)->CollectOnce();

  // Interval 4: beta restarts on the same admin port and serves 7 calls.
  const int beta_admin_port = beta->admin_port();
  beta.reset();
  beta = std::make_unique<Instance>("beta", "beta-2", beta_admin_port);
  beta->Call(Delays(7, 1, 0, 1));
  (*collector)->CollectOnce();
  (*collector)->CollectOnce();  // nothing new
  ASSERT_TRUE((*collector)->writer().WaitUntilFlushed(absl::Seconds(20)));

  const CollectorStats stats = (*collector)->stats();
  EXPECT_EQ(stats.rounds, 5u);
  EXPECT_EQ(stats.poll_failures, 15u);  // three targets down, every round
  EXPECT_EQ(stats.resets, 1u);
  EXPECT_EQ(stats.writer.written, stats.writer.offered);

  // Counts per service and status equal the calls made.
  std::map<std::string, int64_t> counts;
  for (const InfluxRow& row :
       Query("traffic",
             absl::StrCat("SELECT sum(\"count\") AS n, sum(errors) AS e FROM rpc_server WHERE "
                          "\"method\" = '",
                          kUnary, "' GROUP BY service, status"))) {
    counts[row.at("tags")] = Int(row.at("n"));
    if (row.at("tags").find("status=all") != std::string::npos) {
      counts[row.at("tags") + " errors"] = Int(row.at("e"));
    }
  }
  EXPECT_EQ(counts["service=alpha,status=all"], 60 + 5 + 40 + 3 + 10);
  EXPECT_EQ(counts["service=alpha,status=OK"], 110);
  EXPECT_EQ(counts["service=alpha,status=NOT_FOUND"], 5);
  EXPECT_EQ(counts["service=alpha,status=UNAVAILABLE"], 3);
  EXPECT_EQ(counts["service=alpha,status=all errors"], 3);  // NOT_FOUND is no server error
  EXPECT_EQ(counts["service=beta,status=all"], 30 + 2 + 5 + 7);
  EXPECT_EQ(counts["service=beta,status=INTERNAL"], 2);
  EXPECT_EQ(counts["service=beta,status=all errors"], 2);
  EXPECT_EQ(counts.size(), 9u) << "unexpected series";

  // Interval 2's merged p99 (both alpha instances) against the exact p99 of
  // all 108 calls' durations.
  std::vector<InfluxRow> p99 = Query(
      "traffic", absl::StrCat("SELECT p99_seconds, p50_seconds, \"count\" FROM rpc_server WHERE "
                              "service = 'alpha' AND status = 'all' AND \"method\" = '",
                              kUnary, "' ORDER BY time ASC LIMIT 1"));
  ASSERT_EQ(p99.size(), 1u);
  EXPECT_EQ(Int(p99[0].at("count")), 108);
  double merged = 0;
  ASSERT_TRUE(absl::SimpleAtod(p99[0].at("p99_seconds"), &merged));
  const double exact = ExactQuantile(raw, 0.99);
  EXPECT_NEAR(merged, exact, exact * 0.02) << "exact p99 " << exact;
  std::printf(
      "merged p99 of alpha's two instances: %.6f s, exact p99 of the 108 calls: %.6f s "
      "(%+.2f%%)\n",
      merged, exact, (merged / exact - 1) * 100);
  double p50 = 0;
  ASSERT_TRUE(absl::SimpleAtod(p99[0].at("p50_seconds"), &p50));
  EXPECT_NEAR(p50, ExactQuantile(raw, 0.5), ExactQuantile(raw, 0.5) * 0.02);

  // Up and down, every round.
  std::map<std::string, std::pair<int64_t, int64_t>> up;  // tags → (rounds, sum of up)
  for (const InfluxRow& row : Query("traffic",
                                    "SELECT count(up) AS n, sum(up) AS s FROM up GROUP BY "
                                    "service, instance")) {
    up[row.at("tags")] = {Int(row.at("n")), Int(row.at("s"))};
  }
  EXPECT_EQ(up[absl::StrCat("instance=a,service=alpha")], std::make_pair(int64_t{5}, int64_t{5}));
  EXPECT_EQ(up[absl::StrCat("instance=b,service=alpha")], std::make_pair(int64_t{5}, int64_t{5}));
  EXPECT_EQ(up[absl::StrCat("instance=", beta->admin(), ",service=beta")],
            std::make_pair(int64_t{5}, int64_t{5}));
  for (const char* down : {"dead", "garbage", "silent"}) {
    bool found = false;
    for (const auto& [tags, figures] : up) {
      if (tags.find(absl::StrCat("service=", down)) == std::string::npos) continue;
      found = true;
      EXPECT_EQ(figures, std::make_pair(int64_t{5}, int64_t{0})) << tags;
    }
    EXPECT_TRUE(found) << down;
    EXPECT_TRUE(log.Has(absl::StrCat(down, " at 127.0.0.1:"))) << down;
  }
  EXPECT_TRUE(log.Has("beta at " + beta->admin() + " restarted"));
  std::vector<InfluxRow> errors =
      Query("traffic", "SELECT last(error) FROM up WHERE service = 'garbage'");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].at("last").find("GetServiceInfo/GetMetrics"), std::string::npos);
}

TEST_F(CollectorInfluxTest, AnOutageLosesNothingTheBufferHoldsAndCountsTheRest) {
  auto influx = InfluxServer::Start(testing::TestTempDir() + "/influx-outage");
  ASSERT_TRUE(influx.ok()) << influx.status();
  Instance gamma("gamma", "gamma-1");

  LogLines log;
  CollectorOptions options;
  options.targets = {*ParseCollectorTarget("gamma=" + gamma.admin())};
  options.poll_timeout = absl::Seconds(2);
  options.influx.url = (*influx)->url();
  options.influx.database = "outage";
  options.influx.precision = "ns";
  options.influx.max_buffered_points = 40;
  options.influx.max_batch_points = 7;
  options.influx.retry_initial_backoff = absl::Milliseconds(20);
  options.influx.retry_max_backoff = absl::Milliseconds(100);
  options.influx.request_timeout = absl::Seconds(2);
  options.log = log.Sink();
  auto collector = MetricsCollector::Create(options);
  ASSERT_TRUE(collector.ok()) << collector.status();

  (*collector)->CollectOnce();
  ASSERT_TRUE((*collector)->writer().WaitUntilFlushed(absl::Seconds(20)));
  const InfluxWriterStats before = (*collector)->stats().writer;
  EXPECT_EQ(before.written, before.offered);

  (*influx)->Stop();
  // Rounds with traffic until more points were offered than the buffer holds.
  InfluxWriterStats during;
  for (int round = 0; round < 60; ++round) {
    gamma.Call({{0, 0}, {0, round % 2 == 0 ? 0 : 5}});
    (*collector)->CollectOnce();
    during = (*collector)->stats().writer;
    if (during.offered - before.offered > 60) break;
  }
  const uint64_t offered_in_outage = during.offered - before.offered;
  ASSERT_GT(offered_in_outage, 40u);
  EXPECT_EQ(during.written, before.written);
  EXPECT_EQ(during.buffered, 40u);
  EXPECT_EQ(during.dropped_buffer_full, offered_in_outage - 40);
  EXPECT_GT(during.failed_requests, 0u);
  EXPECT_TRUE(log.Has("InfluxDB write failed"));
  EXPECT_TRUE(log.Has("buffer full"));

  ASSERT_TRUE((*influx)->Restart().ok());
  ASSERT_TRUE((*collector)->writer().WaitUntilFlushed(absl::Seconds(30)));
  const InfluxWriterStats after = (*collector)->stats().writer;
  EXPECT_EQ(after.written, before.written + 40);
  EXPECT_EQ(after.offered, after.written + after.dropped_buffer_full);
  EXPECT_TRUE(log.Has("InfluxDB writes succeed again"));

  // InfluxDB holds exactly the points written: every measurement's points
  // carry one field that is always there.
  int64_t stored = 0;
  for (const auto& [measurement, field] : std::vector<std::pair<std::string, std::string>>{
           {"up", "up"}, {"tracebridge_collector", "rounds"}, {"rpc_server", "count"}}) {
    absl::StatusOr<std::vector<InfluxRow>> rows = (*influx)->Query(
        "outage", absl::StrCat("SELECT count(\"", field, "\") AS n FROM ", measurement));
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->size(), 1u) << measurement;
    stored += Int(rows->front().at("n"));
  }
  EXPECT_EQ(stored, static_cast<int64_t>(after.written));
  (*collector)->Stop();
}

// The binary: flags in, rounds out, bad targets refused.
TEST_F(CollectorInfluxTest, TheBinaryRunsItsRoundsAndRefusesBadTargets) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string binary =
      absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                   workspace != nullptr ? workspace : "tracebridge", "/collector/collector");
  const std::string log = testing::TestTempDir() + "/collector-binary.log";
  testing::ProcessResult bad =
      testing::RunProgram({binary, "--target=orders=no-port"}, testing::CurrentEnvironment(),
                          testing::TestTempDir(), log, absl::Seconds(30));
  EXPECT_EQ(bad.exit_code, 2) << bad.log;
  EXPECT_NE(bad.log.find("host:port"), std::string::npos) << bad.log;

  Instance delta("delta", "delta-1");
  absl::StatusOr<int> dead_port = PickFreeLoopbackPort();
  ASSERT_TRUE(dead_port.ok());
  testing::ProcessResult run = testing::RunProgram(
      {binary, "--target=" + delta.admin(), "--target", absl::StrCat("dead=127.0.0.1:", *dead_port),
       "--influx_url=" + influx_->url(), "--influx_db=binary", "--influx_precision=ns",
       "--interval=50ms", "--poll_timeout=1s", "--rounds=3"},
      testing::CurrentEnvironment(), testing::TestTempDir(), log, absl::Seconds(60));
  EXPECT_EQ(run.exit_code, 0) << run.log;
  EXPECT_NE(run.log.find("COLLECTING 2 targets"), std::string::npos) << run.log;
  EXPECT_NE(run.log.find("3 rounds, 6 polls (3 failed)"), std::string::npos) << run.log;
  std::map<std::string, std::string> up;
  for (const InfluxRow& row :
       Query("binary", "SELECT count(up) AS n, sum(up) AS s FROM up GROUP BY service")) {
    up[row.at("tags")] = row.at("n") + "/" + row.at("s");
  }
  EXPECT_EQ(
      up, (std::map<std::string, std::string>{{"service=delta", "3/3"}, {"service=dead", "3/0"}}));
}

}  // namespace
}  // namespace tracebridge
