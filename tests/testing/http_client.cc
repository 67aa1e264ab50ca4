#include "tests/testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace tracebridge {
namespace testing {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Parses the head; returns false until it is complete.
bool ParseHead(absl::string_view data, HttpResponse* response, size_t* body_start) {
  size_t end = data.find("\r\n\r\n");
  if (end == absl::string_view::npos) return false;
  std::vector<absl::string_view> lines = absl::StrSplit(data.substr(0, end), "\r\n");
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() >= 2) absl::SimpleAtoi(status_line[1], &response->status);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    response->headers.emplace_back(
        absl::AsciiStrToLower(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  *body_start = end + 4;
  return true;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& header : headers) {
    if (header.first == name) return header.second;
  }
  return "";
}

absl::StatusOr<HttpResponse> SendHttp(int port, const HttpRequest& request,
                                      std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno)));
  }

  std::string wire = absl::StrCat(request.method, " ", request.target, " HTTP/1.1\r\n",
                                  "Host: 127.0.0.1:", port, "\r\n", "Connection: close\r\n");
  for (const auto& header : request.headers) {
    absl::StrAppend(&wire, header.first, ": ", header.second, "\r\n");
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    absl::StrAppend(&wire, "Content-Length: ", request.body.size(), "\r\n");
  }
  absl::StrAppend(&wire, "\r\n", request.body);
  for (size_t sent = 0; sent < wire.size();) {
    ssize_t n = send(fd.get(), wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      // The server may answer (413, 431) and close before reading everything.
      break;
    }
    sent += static_cast<size_t>(n);
  }

  std::string data;
  HttpResponse response;
  size_t body_start = 0;
  bool have_head = false;
  char buffer[16384];
  for (;;) {
    if (have_head) {
      std::string length = response.Header("content-length");
      size_t expected = 0;
      if (!length.empty() && absl::SimpleAtoi(length, &expected) &&
          data.size() - body_start >= expected) {
        break;
      }
    }
    pollfd poll_fd{fd.get(), POLLIN, 0};
    int ready = poll(&poll_fd, 1, RemainingMs(deadline));
    if (ready == 0) return absl::DeadlineExceededError("no complete HTTP response in time");
    if (ready < 0 && errno != EINTR) return absl::InternalError(strerror(errno));
    ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // closed
    data.append(buffer, static_cast<size_t>(n));
    if (!have_head) have_head = ParseHead(data, &response, &body_start);
  }
  if (!have_head) {
    if (!ParseHead(data, &response, &body_start)) {
      return absl::UnavailableError(
          absl::StrCat("connection closed after ", data.size(), " bytes without a response head"));
    }
  }
  response.body = data.substr(body_start);
  std::string length = response.Header("content-length");
  size_t expected = 0;
  if (!length.empty() && absl::SimpleAtoi(length, &expected) && response.body.size() > expected) {
    response.body.resize(expected);
  }
  return response;
}

absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& target,
                                     std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest request;
  request.target = target;
  request.headers = std::move(headers);
  return SendHttp(port, request);
}

}  // namespace testing
}  // namespace tracebridge
