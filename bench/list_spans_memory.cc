// File: bench/list_spans_memory.cc
//
// What concurrent ListSpans pages cost the server in memory, with pages
// bounded in bytes (the default, 1 MiB) against unbounded ones (64 MiB, what
// a page of 1,000 spans was before the bound). For each, a server process
// holds `--spans` spans with 4 KB attributes in its span store and serves
// tracebridge.v1.Query; `--clients` threads of this process, each with its
// own channel (receive limit raised to 64 MiB so unbounded pages arrive),
// page through the whole store `--rounds` times at once with page_size 1000.
// Reported per mode: the server's resident memory after filling the store
// and its peak (VmHWM) after the queries, the growth between them, pages
// and the largest page.
//
// The server runs in a child process (this binary with --serve), so its
// memory is not mixed with the clients'.
//
// Example:
//
//   ./bazelw run --config=opt //bench:list_spans_memory -- --clients=32 --rounds=3
//   ./bazelw run --config=opt //bench:list_spans_memory -- --quick   # smoke run

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

struct Flags {
  int spans = 1000;
  int clients = 32;
  int rounds = 3;
  // Server mode: serve with this page bound; the parent reads the port on
  // stdout and closes stdin to stop it.
  size_t serve = 0;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = true;
    if (arg == "--quick") {
      flags->spans = 100;
      flags->clients = 2;
      flags->rounds = 1;
    } else if (absl::ConsumePrefix(&arg, "--spans=")) {
      ok = absl::SimpleAtoi(arg, &flags->spans) && flags->spans > 0;
    } else if (absl::ConsumePrefix(&arg, "--clients=")) {
      ok = absl::SimpleAtoi(arg, &flags->clients) && flags->clients > 0;
    } else if (absl::ConsumePrefix(&arg, "--rounds=")) {
      ok = absl::SimpleAtoi(arg, &flags->rounds) && flags->rounds > 0;
    } else if (absl::ConsumePrefix(&arg, "--serve=")) {
      ok = absl::SimpleAtoi(arg, &flags->serve);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: list_spans_memory [--spans=N] [--clients=N] [--rounds=N] [--quick]\n"
                   "bad argument: %s\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

// A /proc/self/status field in KiB (VmRSS, VmHWM).
long StatusKiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, field + ":")) {
      long kib = 0;
      rest = absl::StripAsciiWhitespace(rest);
      absl::ConsumeSuffix(&rest, " kB");
      if (absl::SimpleAtoi(rest, &kib)) return kib;
    }
  }
  return -1;
}

// The server: fills its store, serves, prints "PORT <p> RSS <KiB>", waits for
// stdin to close, then prints "PEAK <KiB>".
int Serve(const Flags& flags) {
  auto telemetry = TelemetryBuilder()
                       .SetServiceName("list-spans-memory")
                       .UseSimpleProcessor()
                       .SetDefaultSpanFile("/dev/null")
                       .Build();
  if (!telemetry.ok()) {
    std::fprintf(stderr, "server: %s\n", telemetry.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < flags.spans; ++i) {
    Span span = (*telemetry)->tracer().StartSpan(absl::StrCat("GET /users/:id/orders ", i));
    span.SetAttribute("blob", std::string(4096, static_cast<char>('a' + i % 26)));
    span.SetAttribute("url.path", absl::StrCat("/users/", i, "/orders"));
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  InstallOptions options;
  options.admin_listener = false;
  options.serve_query_on_server_port = true;
  options.query.max_page_bytes = flags.serve;
  absl::StatusOr<Installation> installation = InstallOn(builder, **telemetry, std::move(options));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!installation.ok() || server == nullptr || port == 0) {
    std::fprintf(stderr, "server: cannot serve\n");
    return 1;
  }
  std::printf("PORT %d RSS %ld\n", port, StatusKiB("VmRSS"));
  std::fflush(stdout);
  char buffer[64];
  while (read(STDIN_FILENO, buffer, sizeof(buffer)) > 0) {
  }
  std::printf("PEAK %ld\n", StatusKiB("VmHWM"));
  std::fflush(stdout);
  server->Shutdown();
  return 0;
}

struct Result {
  long rss_kib = -1;
  long peak_kib = -1;
  uint64_t pages = 0;
  size_t largest_page = 0;
  int failed_calls = 0;
};

// Starts `self --serve=<bound>`, drives the clients, reads the peak.
Result Measure(const std::string& self, const Flags& flags, size_t bound) {
  Result result;
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return result;
  // Built before fork: the child only calls what is safe between fork and exec.
  const std::string serve = absl::StrCat("--serve=", bound);
  const std::string spans = absl::StrCat("--spans=", flags.spans);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[1]);
    close(out[0]);
    execl(self.c_str(), self.c_str(), serve.c_str(), spans.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  FILE* from_server = fdopen(out[0], "r");
  int port = 0;
  if (from_server == nullptr ||
      std::fscanf(from_server, "PORT %d RSS %ld", &port, &result.rss_kib) != 2) {
    std::fprintf(stderr, "list_spans_memory: the server did not start\n");
    close(in[1]);
    waitpid(pid, nullptr, 0);
    return result;
  }

  std::atomic<uint64_t> pages{0};
  std::atomic<size_t> largest{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < flags.clients; ++c) {
    clients.emplace_back([&, port] {
      grpc::ChannelArguments arguments;
      arguments.SetMaxReceiveMessageSize(64 << 20);
      auto query = v1::Query::NewStub(grpc::CreateCustomChannel(
          absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), arguments));
      for (int round = 0; round < flags.rounds; ++round) {
        std::string token;
        for (int guard = 0; guard < 10 * flags.spans; ++guard) {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
          v1::ListSpansRequest request;
          request.set_page_size(1000);
          request.set_page_token(token);
          v1::ListSpansResponse response;
          if (!query->ListSpans(&context, request, &response).ok()) {
            failed.fetch_add(1);
            break;
          }
          pages.fetch_add(1);
          size_t size = response.ByteSizeLong();
          size_t seen = largest.load();
          while (size > seen && !largest.compare_exchange_weak(seen, size)) {
          }
          token = response.next_page_token();
          if (token.empty()) break;
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  close(in[1]);  // the server prints its peak and stops
  if (std::fscanf(from_server, " PEAK %ld", &result.peak_kib) != 1) result.peak_kib = -1;
  std::fclose(from_server);
  waitpid(pid, nullptr, 0);
  result.pages = pages.load();
  result.largest_page = largest.load();
  result.failed_calls = failed.load();
  return result;
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  if (flags.serve != 0) return Serve(flags);
  signal(SIGPIPE, SIG_IGN);
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 1;
  self[n] = '\0';

  std::printf("spans %d x 4 KB, %d concurrent clients, %d full walks each, page_size 1000\n",
              flags.spans, flags.clients, flags.rounds);
  std::printf("%-10s %10s %14s %10s %12s %7s %14s %7s\n", "mode", "bound", "server RSS MiB",
              "peak MiB", "growth MiB", "pages", "largest page", "failed");
  int status = 0;
  for (const auto& mode : {std::make_pair("bounded", size_t{1} << 20),
                           std::make_pair("unbounded", size_t{64} << 20)}) {
    const Result r = Measure(self, flags, mode.second);
    if (r.peak_kib < 0 || r.failed_calls > 0) status = 1;
    std::printf("%-10s %9zuK %14.1f %10.1f %12.1f %7llu %13zuK %7d\n", mode.first,
                mode.second >> 10, r.rss_kib / 1024.0, r.peak_kib / 1024.0,
                (r.peak_kib - r.rss_kib) / 1024.0, static_cast<unsigned long long>(r.pages),
                r.largest_page >> 10, r.failed_calls);
    std::fflush(stdout);
  }
  return status;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
