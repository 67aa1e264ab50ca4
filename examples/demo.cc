// The tracebridge demo: an HTTP gateway (Pistache) in front of two gRPC
// services, started as child processes on free loopback ports. It drives a
// mix of traffic through the gateway, then prints one request's trace across
// the three services as a tree with a waterfall, each service's metrics as
// fetched through the query RPC, and where the spans were written.
//
//   ./bazelw run //examples:demo                    # run, print, stop
//   ./bazelw run //examples:demo -- --keep_running  # leave the services up
//
// With --keep_running it also starts the collector (and a private InfluxDB
// when influxd is installed) on the three query ports, and prints a
// Prometheus scrape config and an InfluxQL query with InfluxDB's answer.
//
// No child outlives the demo: they stop when it finishes, fails, or is
// interrupted (they also watch their stdin and their parent).

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/testing/http_client.h"
#include "tracebridge/collector/collector.h"
#include "tracebridge/collector/influxdb_local.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/v1/query.grpc.pb.h"

ABSL_FLAG(bool, keep_running, false,
          "Leave the services running after the demo and print their addresses; Ctrl-C stops "
          "them.");
ABSL_FLAG(std::string, span_dir, "",
          "Where the services write their JSON-lines span files (default: a new directory "
          "under $TMPDIR or /tmp).");
ABSL_FLAG(std::string, metrics_naming, "",
          "Passed on to every service: otel or grpc_prometheus (the names their /metrics "
          "use).");

ABSL_FLAG(int, influx_port, 0,
          "With --keep_running: an InfluxDB 1.x already listening on 127.0.0.1:<port> for the "
          "collector (default: start a private one when influxd is installed).");

namespace tracebridge {
namespace demo {
namespace {

namespace pb = ::tracebridge::v1;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t interrupted = 0;
void OnSignal(int) { interrupted = 1; }

// ---- child processes ----

struct Child {
  std::string name;
  pid_t pid = -1;
  int stdin_fd = -1;   // closing it tells the child to stop
  int stdout_fd = -1;  // where it announces its ports
  std::string pending;
};

std::string SelfDirectory() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return ".";
  path[n] = '\0';
  std::string self(path);
  return self.substr(0, self.rfind('/'));
}

// `ours`: one of our binaries, which also takes --exit_on_stdin_eof.
bool Launch(Child* child, const std::string& binary, std::vector<std::string> args,
            const std::string& log_path, bool ours = true) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return false;
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    if (log >= 0) dup2(log, STDERR_FILENO);
    // The demo's own signal disposition must not leak into the child.
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // influxd does not watch its stdin
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    if (ours) args.push_back("--exit_on_stdin_eof");
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (log >= 0) close(log);
  child->pid = pid;
  child->stdin_fd = in[1];
  child->stdout_fd = out[0];
  return true;
}

// Where a child listens, from its "LISTENING <what> <port> admin_http=<host:port>
// admin_grpc=<host:port>" line.
struct Listening {
  int port = 0;  // the business port
  std::string admin_http;
  std::string admin_grpc;
  int admin_http_port = 0;
};

// Parses one LISTENING line of `what`; false for any other line.
bool ParseListening(absl::string_view line, const std::string& what, Listening* out) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
  if (fields.size() != 5 || fields[0] != "LISTENING" || fields[1] != what) return false;
  absl::string_view http = fields[3];
  absl::string_view grpc = fields[4];
  if (!absl::SimpleAtoi(fields[2], &out->port) || !absl::ConsumePrefix(&http, "admin_http=") ||
      !absl::ConsumePrefix(&grpc, "admin_grpc=") ||
      !absl::SimpleAtoi(http.substr(http.rfind(':') + 1), &out->admin_http_port)) {
    return false;
  }
  out->admin_http = std::string(http);
  out->admin_grpc = std::string(grpc);
  return true;
}

// Reads the child's stdout until a line `accept` takes; false on timeout or
// exit.
bool WaitForLine(Child& child, const std::function<bool(const std::string&)>& accept,
                 Clock::time_point deadline) {
  for (;;) {
    size_t newline;
    while ((newline = child.pending.find('\n')) != std::string::npos) {
      std::string line = child.pending.substr(0, newline);
      child.pending.erase(0, newline + 1);
      if (accept(line)) return true;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || interrupted) return false;
    pollfd fd{child.stdout_fd, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[512];
    ssize_t n = read(child.stdout_fd, buffer, sizeof(buffer));
    if (n <= 0) return false;  // the child exited
    child.pending.append(buffer, static_cast<size_t>(n));
  }
}

// Reads the child's LISTENING line; port 0 on timeout or exit.
Listening WaitForListening(Child& child, const std::string& what, Clock::time_point deadline) {
  Listening listening;
  if (!WaitForLine(
          child, [&](const std::string& line) { return ParseListening(line, what, &listening); },
          deadline)) {
    return Listening();
  }
  return listening;
}

void Stop(std::vector<Child>& children) {
  for (Child& child : children) {
    if (child.stdin_fd >= 0) close(child.stdin_fd);
    child.stdin_fd = -1;
    if (child.pid > 0) kill(child.pid, SIGTERM);
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  for (Child& child : children) {
    if (child.pid <= 0) continue;
    for (;;) {
      int status;
      pid_t done = waitpid(child.pid, &status, WNOHANG);
      if (done == child.pid || done < 0) break;
      if (Clock::now() > deadline) {
        kill(child.pid, SIGKILL);
        waitpid(child.pid, &status, 0);
        break;
      }
      pollfd none{-1, 0, 0};
      poll(&none, 0, 20);  // brief pause between reaps of a stopping child
    }
    child.pid = -1;
    if (child.stdout_fd >= 0) close(child.stdout_fd);
    child.stdout_fd = -1;
  }
}

// ---- traffic ----

struct Request {
  std::string method;
  std::string target;
  std::string body;
  std::string route;  // the template the gateway records it under
};

struct Sent {
  Request request;
  int status = 0;
  std::string trace_id;
};

Sent Send(int port, const Request& request, const std::string& traceparent = "") {
  testing::HttpRequest http;
  http.method = request.method;
  http.target = request.target;
  http.body = request.body;
  if (!traceparent.empty()) http.headers.emplace_back("traceparent", traceparent);
  Sent sent{request};
  auto response = testing::SendHttp(port, http, std::chrono::seconds(10));
  if (response.ok()) {
    sent.status = response->status;
    sent.trace_id = response->Header("x-trace-id");
  }
  return sent;
}

// ---- the trace ----

std::unique_ptr<pb::Query::Stub> QueryStub(const std::string& address) {
  return pb::Query::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

std::vector<pb::Span> TraceSpans(pb::Query::Stub& stub, const std::string& trace_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  pb::ListSpansRequest request;
  request.set_trace_id(trace_id);
  request.set_page_size(1000);
  pb::ListSpansResponse response;
  if (!stub.ListSpans(&context, request, &response).ok()) return {};
  return {response.spans().begin(), response.spans().end()};
}

std::string Millis(uint64_t nanos) { return absl::StrFormat("%.2f ms", nanos / 1e6); }

void PrintTree(const std::vector<pb::Span>& spans, const std::string& root_parent) {
  std::map<std::string, std::vector<const pb::Span*>> children;
  std::map<std::string, const pb::Span*> by_id;
  for (const pb::Span& span : spans) by_id[span.span_id()] = &span;
  std::vector<const pb::Span*> roots;
  for (const pb::Span& span : spans) {
    if (by_id.count(span.parent_span_id())) {
      children[span.parent_span_id()].push_back(&span);
    } else {
      roots.push_back(&span);
    }
  }
  for (auto& entry : children) {
    std::sort(entry.second.begin(), entry.second.end(), [](const pb::Span* a, const pb::Span* b) {
      return a->start_unix_nanos() < b->start_unix_nanos();
    });
  }
  if (roots.empty()) return;
  const pb::Span& root = *roots.front();
  const uint64_t t0 = root.start_unix_nanos();
  const double total = std::max<uint64_t>(1, root.duration_nanos());
  constexpr int kWidth = 40;
  std::printf("  %-10s %-52s %-7s %10s  %-6s %-17s %s\n", "service", "span", "kind", "duration",
              "status", "span id / parent",
              ("waterfall (0 .. " + Millis(root.duration_nanos()) + ")").c_str());
  std::function<void(const pb::Span&, int)> print = [&](const pb::Span& span, int depth) {
    std::string name = std::string(2 * depth, ' ') + (depth > 0 ? "└ " : "") + span.name();
    // printf pads by bytes; "└" is three bytes but one column wide.
    const size_t columns = name.size() - (depth > 0 ? 2 : 0);
    if (columns < 52) name.append(52 - columns, ' ');
    const double begin = (span.start_unix_nanos() - static_cast<double>(t0)) / total * kWidth;
    int from = std::clamp(static_cast<int>(begin), 0, kWidth - 1);
    int length = std::clamp(static_cast<int>(span.duration_nanos() / total * kWidth + 0.5), 1,
                            kWidth - from);
    std::string bar = std::string(from, ' ') + std::string(length, '#') +
                      std::string(kWidth - from - length, ' ');
    std::printf(
        "  %-10s %s %-7s %10s  %-6s %s/%s |%s|\n", span.service_name().c_str(), name.c_str(),
        span.kind().c_str(), Millis(span.duration_nanos()).c_str(), span.status().c_str(),
        span.span_id().substr(0, 8).c_str(),
        span.parent_span_id().empty() ? "--------" : span.parent_span_id().substr(0, 8).c_str(),
        bar.c_str());
    for (const pb::Span* child : children[span.span_id()]) print(*child, depth + 1);
  };
  for (const pb::Span* top : roots) print(*top, 0);
  if (root.parent_span_id() == root_parent) {
    std::printf("  (the gateway's span continues the demo's own traceparent, parent %s)\n",
                root_parent.substr(0, 8).c_str());
  }
}

// ---- metrics ----

std::string StatusName(const pb::SeriesMetrics& series, int code) {
  return StatusTagValue(series.protocol() != pb::PROTOCOL_HTTP, code);
}

void PrintMetrics(const std::string& service, pb::Query::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  pb::GetMetricsResponse response;
  grpc::Status status = stub.GetMetrics(&context, pb::GetMetricsRequest(), &response);
  if (!status.ok()) {
    std::printf("  %s: query failed: %s\n", service.c_str(), status.error_message().c_str());
    return;
  }
  std::printf("  %s\n", service.c_str());
  std::printf("    %-6s %-8s %-45s %6s %6s %10s %10s  %s\n", "proto", "side", "method or route",
              "count", "errors", "p50", "p99", "status codes");
  for (const pb::SeriesMetrics& series : response.series()) {
    if (series.count() == 0 && series.in_flight() == 0) continue;
    std::string codes;
    for (const pb::StatusCount& count : series.status_codes()) {
      absl::StrAppend(&codes, codes.empty() ? "" : " ", StatusName(series, count.code()), ":",
                      count.count());
    }
    std::printf("    %-6s %-8s %-45s %6llu %6llu %10s %10s  %s\n",
                series.protocol() == pb::PROTOCOL_GRPC ? "grpc" : "http",
                series.side() == pb::SIDE_SERVER ? "server" : "client", series.name().c_str(),
                static_cast<unsigned long long>(series.count()),
                static_cast<unsigned long long>(series.errors()),
                Millis(static_cast<uint64_t>(series.p50_seconds() * 1e9)).c_str(),
                Millis(static_cast<uint64_t>(series.p99_seconds() * 1e9)).c_str(), codes.c_str());
  }
}

// ---- central collection (--keep_running) ----

// influxd on $PATH or in the usual places; empty when not installed.
std::string FindInfluxd() {
  std::vector<std::string> dirs = {"/usr/bin", "/usr/local/bin", "/usr/sbin"};
  if (const char* path = getenv("PATH")) {
    for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      dirs.emplace_back(dir);
    }
  }
  for (const std::string& dir : dirs) {
    const std::string candidate = dir + "/influxd";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

constexpr char kInfluxDatabase[] = "tracebridge_demo";

// The collector (and a private InfluxDB) that the demo starts with
// --keep_running; stopped before the services.
struct Collection {
  Child collector;
  Child influxd;
  int influx_port = 0;
  bool queryable = false;  // an InfluxDB the demo started or was pointed at
};

// Starts InfluxDB (unless --influx_port names one) and the collector polling
// the three services' query ports every second, and waits until the
// collector's first round is in InfluxDB: the baseline, taken before the
// demo's traffic, so that the traffic is what the next rounds write.
bool StartCollection(const std::string& bin, const std::string& dir,
                     const std::vector<std::pair<std::string, const Listening*>>& services,
                     Collection* collection) {
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  collection->influx_port = absl::GetFlag(FLAGS_influx_port);
  collection->queryable = collection->influx_port != 0;
  const std::string influxd = FindInfluxd();
  if (collection->influx_port == 0 && !influxd.empty()) {
    const std::string data = dir + "/influxdb";
    absl::StatusOr<int> http = PickFreeLoopbackPort();
    absl::StatusOr<int> rpc = PickFreeLoopbackPort();
    std::FILE* config = mkdir(data.c_str(), 0755) == 0 && http.ok() && rpc.ok()
                            ? std::fopen((data + "/influxdb.conf").c_str(), "w")
                            : nullptr;
    if (config == nullptr) return false;
    std::fputs(LocalInfluxdConfig(data, *http, *rpc).c_str(), config);
    std::fclose(config);
    collection->influxd.name = "influxd";
    if (!Launch(&collection->influxd, influxd, {"-config", data + "/influxdb.conf"},
                data + "/influxd.log", /*ours=*/false) ||
        !WaitForInfluxd(*http, absl::Now() + absl::Seconds(30)).ok()) {
      std::fprintf(stderr, "demo: InfluxDB did not start (log in %s/influxd.log)\n", data.c_str());
      return false;
    }
    collection->influx_port = *http;
    collection->queryable = true;
  } else if (collection->influx_port == 0) {
    collection->influx_port = 8086;  // nothing to start here: where InfluxDB usually is
  }
  std::vector<std::string> args = {
      absl::StrCat("--influx_url=http://127.0.0.1:", collection->influx_port),
      absl::StrCat("--influx_db=", kInfluxDatabase), "--interval=1s", "--flush_timeout=2s"};
  for (const auto& [name, listening] : services) {
    args.push_back(absl::StrCat("--target=", name, "=", listening->admin_grpc));
  }
  collection->collector.name = "collector";
  if (!Launch(&collection->collector, bin + "/../collector/collector", args,
              dir + "/collector.log") ||
      !WaitForLine(
          collection->collector,
          [](const std::string& line) { return absl::StartsWith(line, "COLLECTING "); },
          deadline)) {
    std::fprintf(stderr, "demo: the collector did not start (log in %s/collector.log)\n",
                 dir.c_str());
    return false;
  }
  if (!collection->queryable) return true;
  // The first round's `up` points are in: the baseline is taken.
  while (!interrupted && Clock::now() < deadline) {
    absl::StatusOr<std::string> csv =
        InfluxQueryCsv(collection->influx_port, kInfluxDatabase,
                       "SELECT count(up) FROM up GROUP BY service", absl::Now() + absl::Seconds(5));
    if (csv.ok() && ParseInfluxCsv(*csv).size() == services.size()) return true;
    pollfd none{-1, 0, 0};
    poll(&none, 0, 50);  // the collector's first round is under way
  }
  return false;
}

void PrintScrapeConfig(const std::vector<std::pair<std::string, const Listening*>>& services) {
  std::printf(
      "\nPrometheus: scrape each service's admin listener (a prometheus.yml; loopback only)\n"
      "scrape_configs:\n"
      "  - job_name: tracebridge\n"
      "    scrape_interval: 15s\n"
      "    static_configs:\n");
  for (const auto& [name, listening] : services) {
    std::printf("      - targets: ['%s']\n        labels: {service: %s}\n",
                listening->admin_http.c_str(), name.c_str());
  }
}

// The gateway's requests per route in InfluxDB, once the collector has
// written all `requests` of them (or after a few seconds, as they are).
void PrintInfluxAnswer(const Collection& collection, size_t requests) {
  const std::string query =
      "SELECT sum(\"count\") FROM http_server WHERE service = 'gateway' AND status = 'all' "
      "AND time > now() - 1m GROUP BY \"method\", route";
  std::printf(
      "\nInfluxDB (database %s on 127.0.0.1:%d), written by the collector from the three query "
      "ports: the gateway's requests per route in the last minute\n"
      "  $ curl -G http://127.0.0.1:%d/query --data-urlencode db=%s --data-urlencode "
      "\"q=%s\"\n",
      kInfluxDatabase, collection.influx_port, collection.influx_port, kInfluxDatabase,
      absl::StrReplaceAll(query, {{"\"", "\\\""}}).c_str());
  if (!collection.queryable) {
    std::printf("  (influxd is not installed here: apt-get install influxdb, or --influx_port)\n");
    return;
  }
  std::vector<InfluxRow> rows;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(15);
  while (!interrupted) {
    absl::StatusOr<std::string> csv = InfluxQueryCsv(collection.influx_port, kInfluxDatabase, query,
                                                     absl::Now() + absl::Seconds(5));
    rows = csv.ok() ? ParseInfluxCsv(*csv) : std::vector<InfluxRow>();
    size_t total = 0;
    for (const InfluxRow& row : rows) {
      size_t n = 0;
      if (absl::SimpleAtoi(row.at("sum"), &n)) total += n;
    }
    if (total >= requests || Clock::now() > deadline) break;
    pollfd none{-1, 0, 0};
    poll(&none, 0, 100);  // the collector writes every second
  }
  std::printf("  %-30s %s\n", "tags", "sum");
  for (const InfluxRow& row : rows) {
    std::printf("  %-30s %s\n", row.at("tags").c_str(), row.at("sum").c_str());
  }
}

int Run() {
  struct sigaction action {};
  action.sa_handler = OnSignal;  // no SA_RESTART: blocking calls return EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::string span_dir = absl::GetFlag(FLAGS_span_dir);
  if (span_dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/tracebridge-demo-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "demo: cannot create a directory under %s\n", pattern.c_str());
      return 1;
    }
    span_dir = pattern;
  }
  const std::string bin = SelfDirectory();
  std::vector<std::string> common = {"--span_dir=" + span_dir};
  if (!absl::GetFlag(FLAGS_metrics_naming).empty()) {
    common.push_back("--metrics_naming=" + absl::GetFlag(FLAGS_metrics_naming));
  }
  std::vector<Child> children(3);
  children[0].name = "inventory";
  children[1].name = "orders";
  children[2].name = "gateway";
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);

  // Stopped before the services, the collector first (it flushes to InfluxDB).
  Collection collection;
  auto stop_all = [&] {
    std::vector<Child> collector(1, collection.collector), influx(1, collection.influxd);
    Stop(collector);
    Stop(influx);
    Stop(children);
  };
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "demo: %s (service logs in %s)\n", what.c_str(), span_dir.c_str());
    stop_all();
    return interrupted ? 130 : 1;
  };

  std::vector<std::string> args = common;
  if (!Launch(&children[0], bin + "/inventory", args, span_dir + "/inventory.log")) {
    return fail("cannot start inventory");
  }
  const Listening inventory = WaitForListening(children[0], "inventory", deadline);
  if (inventory.port == 0) return fail("inventory did not start");

  args = common;
  args.push_back(absl::StrCat("--inventory=127.0.0.1:", inventory.port));
  if (!Launch(&children[1], bin + "/orders", args, span_dir + "/orders.log")) {
    return fail("cannot start orders");
  }
  const Listening orders = WaitForListening(children[1], "orders", deadline);
  if (orders.port == 0) return fail("orders did not start");

  args = common;
  args.push_back(absl::StrCat("--orders=127.0.0.1:", orders.port));
  if (!Launch(&children[2], bin + "/gateway", args, span_dir + "/gateway.log")) {
    return fail("cannot start gateway");
  }
  const Listening gateway = WaitForListening(children[2], "gateway", deadline);
  if (gateway.port == 0) return fail("gateway did not start");
  const int gateway_port = gateway.port;

  // Ready means answering, not just listening (the admin side: the
  // gateway's own routes would count the probe).
  for (;;) {
    auto response = testing::HttpGet(gateway.admin_http_port, "/metrics");
    if (response.ok() && response->status == 200) break;
    if (Clock::now() > deadline || interrupted) return fail("gateway does not answer");
  }

  const bool keep_running = absl::GetFlag(FLAGS_keep_running);
  const std::vector<std::pair<std::string, const Listening*>> services = {
      {"gateway", &gateway}, {"orders", &orders}, {"inventory", &inventory}};
  if (keep_running && !StartCollection(bin, span_dir, services, &collection)) {
    std::fprintf(stderr, "demo: going on without central collection\n");
  }

  std::printf(
      "tracebridge demo: gateway (HTTP 127.0.0.1:%d) -> orders (gRPC 127.0.0.1:%d) -> "
      "inventory (gRPC 127.0.0.1:%d)\n\n",
      gateway_port, orders.port, inventory.port);

  // The traffic: successes, a 404, a failing backend call, a slow call, a stream.
  const std::vector<Request> traffic = {
      {"GET", "/orders/1", "", "/orders/:id"},  // orders streams stock from inventory
      {"GET", "/orders/2", "", "/orders/:id"},
      {"GET", "/orders/3?verbose=1", "", "/orders/:id"},
      {"GET", "/orders/999", "", "/orders/:id"},  // unknown order: 404
      {"GET", "/no-such-page", "", "unknown"},    // no route: 404
      {"POST", "/orders", "sku-101:2,sku-102:1", "/orders"},
      {"POST", "/orders", "sku-103:1", "/orders"},
      {"POST", "/orders", "broken:1", "/orders"},  // inventory fails: 503
      {"POST", "/orders", "slow:1", "/orders"},    // a slow reservation
  };
  // The request whose trace is printed carries the demo's own traceparent.
  const TraceId trace_id = TraceId::Generate();
  const SpanId demo_span = SpanId::Generate();
  const std::string traceparent =
      absl::StrCat("00-", trace_id.ToHex(), "-", demo_span.ToHex(), "-01");
  std::vector<Sent> results;
  std::printf("traffic through the gateway\n");
  for (size_t i = 0; i < traffic.size() && !interrupted; ++i) {
    // The two-line order is the one shown as a trace.
    const bool traced = i == 5;
    results.push_back(Send(gateway_port, traffic[i], traced ? traceparent : ""));
    const Sent& sent = results.back();
    std::printf("  %-5s %-22s -> %3d   trace %s%s\n", sent.request.method.c_str(),
                sent.request.target.c_str(), sent.status, sent.trace_id.c_str(),
                traced ? "   <- shown below" : "");
  }
  if (interrupted) return fail("interrupted");

  // Wait until every service has exported its part of the trace (their span
  // pipelines flush every 200 ms).
  // Each service answers tracebridge.v1.Query on its admin listener only.
  auto gateway_query = QueryStub(gateway.admin_grpc);
  auto orders_query = QueryStub(orders.admin_grpc);
  auto inventory_query = QueryStub(inventory.admin_grpc);
  // gateway server + gateway client + orders server + 2 × (orders client + inventory server)
  constexpr size_t kExpectedSpans = 7;
  std::vector<pb::Span> spans;
  const Clock::time_point trace_deadline = Clock::now() + std::chrono::seconds(10);
  while (!interrupted) {
    spans.clear();
    for (auto* stub : {gateway_query.get(), orders_query.get(), inventory_query.get()}) {
      for (pb::Span& span : TraceSpans(*stub, trace_id.ToHex())) spans.push_back(std::move(span));
    }
    if (spans.size() >= kExpectedSpans || Clock::now() > trace_deadline) break;
    pollfd none{-1, 0, 0};
    poll(&none, 0, 50);  // the services export on their own schedule
  }
  std::printf("\none request's trace: POST /orders (two lines)   trace %s, %zu spans\n",
              trace_id.ToHex().c_str(), spans.size());
  PrintTree(spans, demo_span.ToHex());

  std::printf(
      "\nmetrics, from each service's tracebridge.v1.Query/GetMetrics (on its admin listener)\n");
  PrintMetrics("gateway", *gateway_query);
  PrintMetrics("orders", *orders_query);
  PrintMetrics("inventory", *inventory_query);

  std::printf("\nspans are in %s/{gateway,orders,inventory}.jsonl (one JSON object per line)\n",
              span_dir.c_str());
  std::printf(
      "each service's telemetry is on its admin listener, on loopback only "
      "(JSON: /metrics.json, a trace: /traces/<trace id>)\n");
  for (const auto& service :
       {std::make_pair("gateway", &gateway), std::make_pair("orders", &orders),
        std::make_pair("inventory", &inventory)}) {
    std::printf("  %-10s scrape http://%s/metrics   query gRPC %s\n", service.first,
                service.second->admin_http.c_str(), service.second->admin_grpc.c_str());
  }

  if (keep_running) {
    if (collection.collector.pid > 0) {
      PrintScrapeConfig(services);
      PrintInfluxAnswer(collection, results.size());
    }
    std::printf(
        "\nservices keep running: gateway http://127.0.0.1:%d, orders 127.0.0.1:%d, "
        "inventory 127.0.0.1:%d (admin listeners as above). Ctrl-C stops them.\n",
        gateway_port, orders.port, inventory.port);
    std::fflush(stdout);
    while (!interrupted) {
      pollfd none{-1, 0, 0};
      poll(&none, 0, 200);  // wake up for the signal flag
    }
  }
  stop_all();
  std::printf("\nall services stopped\n");
  return 0;
}

}  // namespace
}  // namespace demo
}  // namespace tracebridge

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tracebridge::demo::Run();
}
