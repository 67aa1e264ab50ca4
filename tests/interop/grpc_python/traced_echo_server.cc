// File: tests/interop/grpc_python/traced_echo_server.cc
//
// The traced Echo service as a stand-alone process, for clients that are not
// ours (python_client_test.py drives it with python3-grpcio). It serves the
// test Echo service with tracebridge installed on 127.0.0.1 at a port the
// kernel picks, and its admin listener (the `tracebridge.v1.Query` service
// and /metrics) on ports of its own; prints "PORT <n> ADMIN_GRPC <m>
// ADMIN_HTTP <k>" on stdout, and exits 0 when its stdin reaches end of file
// or it receives SIGTERM/SIGINT. Spans go to the in-memory store at once
// (simple processor), so a client can read its own call back through
// ListSpans as soon as the call returns.
//
// Flags:
//   --service_name=NAME   service.name (default "echo-server")
//   --span_file=PATH      the JSON-lines span file (default
//                         $TEST_TMPDIR/echo-server-spans.jsonl, or /tmp)
//   --admin_token=TOKEN   the bearer token the admin listener requires
//                         (default: none)
//
// Example:
//
//   traced_echo_server --span_file=/tmp/spans.jsonl --admin_token=s3cret < fifo
//   PORT 40123 ADMIN_GRPC 40125 ADMIN_HTTP 40124

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/strip.h"
#include "tests/testing/echo_service.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

struct Flags {
  std::string service_name = "echo-server";
  std::string span_file;
  std::string admin_token;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--service_name=")) {
      flags->service_name = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--span_file=")) {
      flags->span_file = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--admin_token=")) {
      flags->admin_token = std::string(arg);
    } else {
      std::fprintf(stderr, "traced_echo_server: unknown argument %s\n", argv[i]);
      return false;
    }
  }
  if (flags->span_file.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    flags->span_file = std::string(tmp != nullptr ? tmp : "/tmp") + "/echo-server-spans.jsonl";
  }
  return true;
}

// Blocks until stdin reaches end of file (or fails) or one of the signals in
// `signals` arrives. Both are waited on with poll(), so there is no thread
// left blocked in read() when the process exits.
void WaitForStop(const sigset_t& signals) {
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::fprintf(stderr, "traced_echo_server: signalfd: %s\n", std::strerror(errno));
    return;
  }
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      signalfd_siginfo info;
      if (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
        std::fprintf(stderr, "traced_echo_server: signal %u, stopping\n", info.ssi_signo);
      }
      break;
    }
    if (fds[0].revents != 0) {
      char buffer[256];
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
      if (n > 0) continue;  // input is ignored; only its end matters
      if (n < 0 && errno == EINTR) continue;
      break;  // end of file, or stdin is unusable
    }
  }
  close(signal_fd);
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;

  // Block the stop signals before gRPC starts its threads (they inherit the
  // mask), so they are only ever delivered through the signalfd.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    std::fprintf(stderr, "traced_echo_server: cannot block signals\n");
    return 1;
  }

  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry = TelemetryBuilder()
                                                             .SetServiceName(flags.service_name)
                                                             .UseSimpleProcessor()
                                                             .SetDefaultSpanFile(flags.span_file)
                                                             .Build();
  if (!telemetry.ok()) {
    std::fprintf(stderr, "traced_echo_server: telemetry: %s\n",
                 telemetry.status().ToString().c_str());
    return 1;
  }

  testing::EchoServiceImpl echo;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&echo);
  InstallOptions options;
  options.admin.access.bearer_token = flags.admin_token;
  absl::StatusOr<Installation> installation = InstallOn(builder, **telemetry, std::move(options));
  if (!installation.ok()) {
    std::fprintf(stderr, "traced_echo_server: %s\n", installation.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "traced_echo_server: could not listen on 127.0.0.1\n");
    return 1;
  }
  std::printf("PORT %d ADMIN_GRPC %d ADMIN_HTTP %d\n", port,
              installation->admin_listener()->grpc_port(),
              installation->admin_listener()->http_port());
  std::fflush(stdout);

  WaitForStop(signals);

  // Calls still running get two seconds, then are cancelled: stopping is
  // bounded whatever the client does.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  installation->admin_listener()->Shutdown();
  const absl::Status flushed = (*telemetry)->Shutdown(absl::Seconds(2));
  if (!flushed.ok()) {
    std::fprintf(stderr, "traced_echo_server: telemetry shutdown: %s\n",
                 flushed.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
