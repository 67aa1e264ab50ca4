// The tracebridge collector: polls the tracebridge.v1.Query service of every
// target every --interval and writes the intervals, merged per service, to
// an InfluxDB 1.x (see collector/collector.h for what it writes).
//
//   collector --target=orders=127.0.0.1:7001 --target=orders=127.0.0.1:7002
//             --target=127.0.0.1:7003 --influx_url=http://127.0.0.1:8086
//
// It prints "COLLECTING <targets> <influx url> <database>" on stdout once
// running, logs changes (a target down or back, a restart, InfluxDB failing
// or refusing points) on stderr, stops on SIGINT/SIGTERM (or when stdin
// closes, with --exit_on_stdin_eof, or after --rounds rounds), flushes what
// it buffered, and prints its counters on stderr. Exit code 0, or 2 for bad
// flags or targets.

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tracebridge/collector/collector.h"
#include "tracebridge/collector/targets.h"

ABSL_FLAG(std::vector<std::string>, target, {},
          "A service's tracebridge.v1.Query address (its admin listener's gRPC port): "
          "[service[/instance]=]host:port. Repeat the flag or separate with commas.");
ABSL_FLAG(std::string, targets_file, "",
          "A file with one target a line (# starts a comment), read once at start.");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(10), "Time between poll rounds.");
ABSL_FLAG(absl::Duration, poll_timeout, absl::Seconds(5),
          "Deadline of one target's poll (GetServiceInfo + GetMetrics); at most --interval.");
ABSL_FLAG(int, max_concurrent_polls, 16, "Targets polled at once.");
ABSL_FLAG(std::string, bearer_token_file, "",
          "A file whose first line is the bearer token the admin listeners require.");
ABSL_FLAG(std::string, influx_url, "http://127.0.0.1:8086", "InfluxDB 1.x HTTP API (plain http).");
ABSL_FLAG(std::string, influx_db, "tracebridge", "Database; created unless --nocreate_database.");
ABSL_FLAG(std::string, influx_rp, "", "Retention policy (default: the database's default).");
ABSL_FLAG(std::string, influx_precision, "ms", "Timestamp precision: ns, u, ms or s.");
ABSL_FLAG(std::string, influx_user, "",
          "User for HTTP basic authentication; the password comes from $INFLUX_PASSWORD.");
ABSL_FLAG(bool, create_database, true, "Send CREATE DATABASE before writing.");
ABSL_FLAG(int64_t, max_buffered_points, 100000,
          "Points kept while InfluxDB is unreachable; newer points past it are dropped and "
          "counted.");
ABSL_FLAG(int64_t, max_buffered_bytes, int64_t{32} << 20, "The same bound in bytes.");
ABSL_FLAG(int64_t, batch_points, 5000, "Most points in one write request.");
ABSL_FLAG(absl::Duration, write_timeout, absl::Seconds(10), "Deadline of one write request.");
ABSL_FLAG(absl::Duration, retry_max_backoff, absl::Seconds(5),
          "Longest wait between retries of a failed write (from 100ms, doubling).");
ABSL_FLAG(absl::Duration, flush_timeout, absl::Seconds(5),
          "How long the last points may take to write at shutdown.");
ABSL_FLAG(int64_t, rounds, 0, "Stop after this many rounds (0: run until stopped).");
ABSL_FLAG(bool, exit_on_stdin_eof, false,
          "Also stop when stdin reaches end of file (a launcher went away).");

namespace tracebridge {
namespace {

// Every value of --target, which may be given more than once (absl keeps
// only the last occurrence of a flag).
std::vector<std::string> TargetArguments(int argc, char** argv) {
  std::vector<std::string> values;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--target") && !absl::ConsumePrefix(&arg, "-target")) continue;
    if (absl::ConsumePrefix(&arg, "=")) {
      values.emplace_back(arg);
    } else if (arg.empty() && i + 1 < argc) {
      values.emplace_back(argv[++i]);
    }
  }
  return values;
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "tracebridge collector: polls services' tracebridge.v1.Query and writes their metrics "
      "to InfluxDB 1.x.\n  collector --target=[service[/instance]=]host:port ... "
      "--influx_url=http://127.0.0.1:8086");
  const std::vector<std::string> target_args = TargetArguments(argc, argv);
  absl::ParseCommandLine(argc, argv);

  CollectorOptions options;
  for (const std::string& arg : target_args) {
    for (absl::string_view spec : absl::StrSplit(arg, ',', absl::SkipWhitespace())) {
      absl::StatusOr<CollectorTarget> target = ParseCollectorTarget(spec);
      if (!target.ok()) {
        std::fprintf(stderr, "collector: %s\n", target.status().ToString().c_str());
        return 2;
      }
      options.targets.push_back(*std::move(target));
    }
  }
  if (!absl::GetFlag(FLAGS_targets_file).empty()) {
    absl::StatusOr<std::vector<CollectorTarget>> targets =
        ReadTargetsFile(absl::GetFlag(FLAGS_targets_file));
    if (!targets.ok()) {
      std::fprintf(stderr, "collector: %s\n", targets.status().ToString().c_str());
      return 2;
    }
    options.targets.insert(options.targets.end(), targets->begin(), targets->end());
  }
  if (!absl::GetFlag(FLAGS_bearer_token_file).empty()) {
    std::ifstream file(absl::GetFlag(FLAGS_bearer_token_file));
    if (!file || !std::getline(file, options.bearer_token)) {
      std::fprintf(stderr, "collector: cannot read %s\n",
                   absl::GetFlag(FLAGS_bearer_token_file).c_str());
      return 2;
    }
  }
  options.interval = absl::GetFlag(FLAGS_interval);
  options.poll_timeout = absl::GetFlag(FLAGS_poll_timeout);
  options.max_concurrent_polls = absl::GetFlag(FLAGS_max_concurrent_polls);
  InfluxWriterOptions& influx = options.influx;
  influx.url = absl::GetFlag(FLAGS_influx_url);
  influx.database = absl::GetFlag(FLAGS_influx_db);
  influx.retention_policy = absl::GetFlag(FLAGS_influx_rp);
  influx.precision = absl::GetFlag(FLAGS_influx_precision);
  influx.username = absl::GetFlag(FLAGS_influx_user);
  if (const char* password = getenv("INFLUX_PASSWORD")) influx.password = password;
  influx.create_database = absl::GetFlag(FLAGS_create_database);
  const int64_t points = absl::GetFlag(FLAGS_max_buffered_points);
  const int64_t bytes = absl::GetFlag(FLAGS_max_buffered_bytes);
  const int64_t batch = absl::GetFlag(FLAGS_batch_points);
  if (points < 1 || bytes < 1 || batch < 1) {
    std::fprintf(stderr, "collector: buffer and batch bounds must be at least 1\n");
    return 2;
  }
  influx.max_buffered_points = static_cast<size_t>(points);
  influx.max_buffered_bytes = static_cast<size_t>(bytes);
  influx.max_batch_points = static_cast<size_t>(batch);
  influx.request_timeout = absl::GetFlag(FLAGS_write_timeout);
  influx.retry_max_backoff = absl::GetFlag(FLAGS_retry_max_backoff);
  influx.flush_timeout = absl::GetFlag(FLAGS_flush_timeout);

  // Signals arrive on a descriptor, so one poll() waits for them, stdin and
  // the next round.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const bool watch_stdin = absl::GetFlag(FLAGS_exit_on_stdin_eof);
  if (watch_stdin) prctl(PR_SET_PDEATHSIG, SIGTERM);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);

  absl::StatusOr<std::unique_ptr<MetricsCollector>> collector = MetricsCollector::Create(options);
  if (!collector.ok()) {
    std::fprintf(stderr, "collector: %s\n", collector.status().ToString().c_str());
    return 2;
  }
  std::printf("COLLECTING %zu targets every %s into %s database %s\n", options.targets.size(),
              absl::FormatDuration(options.interval).c_str(), influx.url.c_str(),
              influx.database.c_str());
  std::fflush(stdout);

  const int64_t rounds = absl::GetFlag(FLAGS_rounds);
  absl::Time next = absl::Now();
  for (int64_t done = 0; rounds == 0 || done < rounds;) {
    const int64_t wait_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(next - absl::Now()));
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {watch_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(std::min<int64_t>(wait_ms, 60'000)));
    if (ready > 0) {
      if (fds[0].revents != 0) break;
      if (fds[1].revents != 0) {
        char buffer[256];
        if (read(STDIN_FILENO, buffer, sizeof(buffer)) <= 0) break;
      }
    }
    if (absl::Now() < next) continue;
    (*collector)->CollectOnce();
    ++done;
    next = std::max(next + options.interval, absl::Now());
  }
  (*collector)->Stop();
  const CollectorStats stats = (*collector)->stats();
  std::fprintf(stderr,
               "collector: %llu rounds, %llu polls (%llu failed), %llu restarts; points: "
               "%llu offered, %llu written, %llu refused by InfluxDB, %llu dropped (buffer "
               "full), %llu dropped at shutdown\n",
               static_cast<unsigned long long>(stats.rounds),
               static_cast<unsigned long long>(stats.polls),
               static_cast<unsigned long long>(stats.poll_failures),
               static_cast<unsigned long long>(stats.resets),
               static_cast<unsigned long long>(stats.writer.offered),
               static_cast<unsigned long long>(stats.writer.written),
               static_cast<unsigned long long>(stats.writer.rejected),
               static_cast<unsigned long long>(stats.writer.dropped_buffer_full),
               static_cast<unsigned long long>(stats.writer.dropped_shutdown));
  return 0;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
