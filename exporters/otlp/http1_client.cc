#include "tracebridge/exporters/otlp/http1_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/util/http_token.h"

namespace tracebridge {
namespace {

// Longest chunk-size line (size, extensions) accepted.
constexpr size_t kMaxChunkLine = 1024;

// CR, LF and NUL would let a value end the header early.
bool HasLineBreak(absl::string_view text) {
  return text.find_first_of(absl::string_view("\r\n\0", 3)) != absl::string_view::npos;
}

std::string ErrnoText(int error) { return std::strerror(error); }

// The comma-separated tokens of a header value, lowercased.
std::vector<std::string> Tokens(absl::string_view value) {
  std::vector<std::string> tokens;
  for (absl::string_view token : absl::StrSplit(value, ',')) {
    token = absl::StripAsciiWhitespace(token);
    if (!token.empty()) tokens.push_back(absl::AsciiStrToLower(token));
  }
  return tokens;
}

// The connection ended in the middle of a response: the server went away.
absl::Status Truncated(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kOutOfRange) return status;
  return absl::UnavailableError("the server closed the connection before a whole response");
}

}  // namespace

const std::string* Http1Response::Find(absl::string_view name) const noexcept {
  for (const Http1Header& header : headers) {
    if (header.name == name) return &header.value;
  }
  return nullptr;
}

Http1Client::Http1Client(std::string host, int port, Http1ClientOptions options)
    : host_(std::move(host)),
      port_(port),
      options_(options),
      cancel_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Http1Client::~Http1Client() {
  Close();
  if (cancel_fd_ >= 0) close(cancel_fd_);
}

void Http1Client::Cancel() noexcept {
  cancelled_.store(true);
  if (cancel_fd_ >= 0) {
    const uint64_t one = 1;
    // Nothing to do if it fails: the counter is already non-zero.
    [[maybe_unused]] const ssize_t written = write(cancel_fd_, &one, sizeof(one));
  }
}

void Http1Client::Close() noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  in_.clear();
}

absl::Status Http1Client::WaitFor(short events, absl::Time deadline) {
  for (;;) {
    if (cancelled_.load()) return absl::CancelledError("HTTP request cancelled");
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("HTTP request deadline exceeded");
    }
    const int64_t millis = std::min<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), INT_MAX);
    // poll ignores a negative descriptor (no eventfd: Cancel is seen within
    // the deadline's wait only at the next wake-up).
    pollfd fds[2] = {{fd_, events, 0}, {cancel_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(millis));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", ErrnoText(errno)));
    }
    if (ready > 0 && fds[0].revents != 0 && fds[1].revents == 0) return absl::OkStatus();
  }
}

absl::Status Http1Client::Connect(absl::Time deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(port_);
  const int resolved = getaddrinfo(host_.c_str(), port.c_str(), &hints, &found);
  if (resolved != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host_, ": ", gai_strerror(resolved)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, &freeaddrinfo);
  std::string errors;
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    fd_ = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 address->ai_protocol);
    if (fd_ < 0) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "socket: ", ErrnoText(errno));
      continue;
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd_, address->ai_addr, address->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        absl::StrAppend(&errors, errors.empty() ? "" : "; ", ErrnoText(errno));
        Close();
        continue;
      }
      if (absl::Status ready = WaitFor(POLLOUT, deadline); !ready.ok()) {
        Close();
        return ready;
      }
      int error = 0;
      socklen_t length = sizeof(error);
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
      if (error != 0) {
        absl::StrAppend(&errors, errors.empty() ? "" : "; ", ErrnoText(error));
        Close();
        continue;
      }
    }
    connections_opened_.fetch_add(1, std::memory_order_relaxed);
    in_.clear();
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("cannot connect to ", host_, " port ", port_, ": ", errors));
}

bool Http1Client::StillOpen() noexcept {
  pollfd idle{fd_, POLLIN, 0};
  if (poll(&idle, 1, 0) <= 0) return true;  // nothing happened on it
  if ((idle.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
  char byte;
  const ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // End of stream, an error, or bytes nobody asked for: start afresh.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

absl::Status Http1Client::WriteAll(absl::string_view data, absl::Time deadline) {
  while (!data.empty()) {
    const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (absl::Status ready = WaitFor(POLLOUT, deadline); !ready.ok()) return ready;
      continue;
    }
    return absl::UnavailableError(
        absl::StrCat("connection lost while sending: ", ErrnoText(n < 0 ? errno : EPIPE)));
  }
  return absl::OkStatus();
}

absl::Status Http1Client::ReadMore(absl::Time deadline) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n > 0) {
      in_.append(buffer, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::OutOfRangeError("end of stream");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (absl::Status ready = WaitFor(POLLIN, deadline); !ready.ok()) return ready;
      continue;
    }
    return absl::UnavailableError(
        absl::StrCat("connection lost while receiving: ", ErrnoText(errno)));
  }
}

absl::StatusOr<size_t> Http1Client::ReadLine(size_t from, size_t limit, absl::Time deadline) {
  size_t scanned = from;
  for (;;) {
    const size_t newline = in_.find('\n', scanned);
    if (newline != std::string::npos) {
      if (newline - from > limit) break;
      return newline;
    }
    if (in_.size() - from > limit) break;
    scanned = in_.size();
    if (absl::Status more = ReadMore(deadline); !more.ok()) return Truncated(more);
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("HTTP response line longer than ", limit, " bytes"));
}

absl::Status Http1Client::ReadAtLeast(size_t bytes, absl::Time deadline) {
  while (in_.size() < bytes) {
    if (absl::Status more = ReadMore(deadline); !more.ok()) return Truncated(more);
  }
  return absl::OkStatus();
}

absl::StatusOr<Http1Response> Http1Client::Exchange(absl::string_view method,
                                                    absl::string_view head, absl::string_view body,
                                                    absl::Time deadline, bool* received,
                                                    bool* keep_alive) {
  in_.clear();
  if (absl::Status sent = WriteAll(head, deadline); !sent.ok()) return sent;
  if (absl::Status sent = WriteAll(body, deadline); !sent.ok()) return sent;
  auto line_at = [this](size_t from, size_t newline) {
    absl::string_view line(in_.data() + from, newline - from);
    absl::ConsumeSuffix(&line, "\r");
    return line;
  };
  Http1Response response;
  size_t pos = 0;
  int minor_version = 1;
  for (;;) {  // interim (1xx) responses come before the final one
    const size_t head_start = pos;
    auto head_left = [&] {
      const size_t used = pos - head_start;
      return used < options_.max_header_bytes ? options_.max_header_bytes - used : 0;
    };
    absl::StatusOr<size_t> newline = ReadLine(pos, head_left(), deadline);
    *received = !in_.empty();
    if (!newline.ok()) return newline.status();
    const absl::string_view status_line = line_at(pos, *newline);
    pos = *newline + 1;
    // "HTTP/1.x SSS reason"
    if (status_line.size() < 12 || !absl::StartsWith(status_line, "HTTP/1.") ||
        !absl::ascii_isdigit(static_cast<unsigned char>(status_line[7])) || status_line[8] != ' ' ||
        !absl::SimpleAtoi(status_line.substr(9, 3), &response.status) || response.status < 100 ||
        response.status > 599 || (status_line.size() > 12 && status_line[12] != ' ')) {
      return absl::InternalError(absl::StrCat("not an HTTP/1.x status line: \"",
                                              absl::CHexEscape(status_line.substr(0, 64)), "\""));
    }
    minor_version = status_line[7] - '0';
    response.headers.clear();
    for (;;) {
      newline = ReadLine(pos, head_left(), deadline);
      if (!newline.ok()) return newline.status();
      const absl::string_view line = line_at(pos, *newline);
      pos = *newline + 1;
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (line.front() == ' ' || line.front() == '\t' || colon == absl::string_view::npos ||
          !IsHttpToken(line.substr(0, colon))) {
        return absl::InternalError(absl::StrCat("malformed HTTP response header \"",
                                                absl::CHexEscape(line.substr(0, 64)), "\""));
      }
      response.headers.push_back(
          Http1Header{absl::AsciiStrToLower(line.substr(0, colon)),
                      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)))});
    }
    if (response.status >= 200) break;
    if (response.status == 101) {
      return absl::InternalError("the server switched protocols, which was not asked for");
    }
  }

  // The body's framing (RFC 9112 section 6.3).
  bool until_close = false;
  if (method == "HEAD" || response.status == 204 || response.status == 304) {
    // No body.
  } else if (const std::string* coding = response.Find("transfer-encoding")) {
    const std::vector<std::string> codings = Tokens(*coding);
    if (codings.empty() || codings.back() != "chunked") {
      until_close = true;
    } else {
      for (;;) {
        absl::StatusOr<size_t> newline = ReadLine(pos, kMaxChunkLine, deadline);
        if (!newline.ok()) return newline.status();
        absl::string_view size_text = line_at(pos, *newline);
        pos = *newline + 1;
        size_text = absl::StripAsciiWhitespace(size_text.substr(0, size_text.find(';')));
        uint64_t size = 0;
        if (size_text.empty() || size_text.size() > 15 || !absl::SimpleHexAtoi(size_text, &size)) {
          return absl::InternalError(
              absl::StrCat("malformed chunk size \"", absl::CHexEscape(size_text), "\""));
        }
        if (size == 0) {
          // Trailer fields, up to an empty line; read and dropped.
          const size_t trailers_start = pos;
          for (;;) {
            const size_t used = pos - trailers_start;
            newline = ReadLine(
                pos, used < options_.max_header_bytes ? options_.max_header_bytes - used : 0,
                deadline);
            if (!newline.ok()) return newline.status();
            const bool last = line_at(pos, *newline).empty();
            pos = *newline + 1;
            if (last) break;
          }
          break;
        }
        if (response.body.size() + size > options_.max_response_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat("HTTP response body over the limit of ",
                                                           options_.max_response_bytes, " bytes"));
        }
        if (absl::Status read = ReadAtLeast(pos + size, deadline); !read.ok()) return read;
        response.body.append(in_, pos, size);
        pos += size;
        newline = ReadLine(pos, 1, deadline);
        if (!newline.ok()) return newline.status();
        if (!line_at(pos, *newline).empty()) return absl::InternalError("chunk without its CRLF");
        pos = *newline + 1;
      }
    }
  } else if (const std::string* length_text = response.Find("content-length")) {
    // Repeated or listed values must agree.
    uint64_t length = 0;
    bool first = true;
    for (const Http1Header& header : response.headers) {
      if (header.name != "content-length") continue;
      for (const std::string& token : Tokens(header.value)) {
        uint64_t value = 0;
        if (token.empty() || token.size() > 19 || !absl::SimpleAtoi(token, &value) ||
            token.find_first_not_of("0123456789") != std::string::npos ||
            (!first && value != length)) {
          return absl::InternalError(
              absl::StrCat("malformed Content-Length \"", absl::CHexEscape(*length_text), "\""));
        }
        length = value;
        first = false;
      }
    }
    if (length > options_.max_response_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("HTTP response body of ", length,
                                                       " bytes is over the limit of ",
                                                       options_.max_response_bytes));
    }
    if (absl::Status read = ReadAtLeast(pos + length, deadline); !read.ok()) return read;
    response.body.assign(in_, pos, length);
    pos += length;
  } else {
    until_close = true;
  }
  if (until_close) {
    for (;;) {
      if (in_.size() - pos > options_.max_response_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat("HTTP response body over the limit of ",
                                                         options_.max_response_bytes, " bytes"));
      }
      absl::Status more = ReadMore(deadline);
      if (more.code() == absl::StatusCode::kOutOfRange) break;
      if (!more.ok()) return more;
    }
    response.body.assign(in_, pos, std::string::npos);
    pos = in_.size();
  }

  std::vector<std::string> connection;
  if (const std::string* value = response.Find("connection")) connection = Tokens(*value);
  auto has = [&](absl::string_view token) {
    return std::find(connection.begin(), connection.end(), token) != connection.end();
  };
  // Bytes after the response were never asked for: do not reuse the stream.
  *keep_alive =
      !until_close && pos == in_.size() && (minor_version >= 1 ? !has("close") : has("keep-alive"));
  in_.clear();
  return response;
}

absl::StatusOr<Http1Response> Http1Client::Send(absl::string_view method, absl::string_view target,
                                                absl::Span<const Http1Header> headers,
                                                absl::string_view body, absl::Time deadline) {
  if (cancelled_.load()) return absl::CancelledError("HTTP request cancelled");
  if (!IsHttpToken(method)) return absl::InvalidArgumentError("HTTP method is not a token");
  if (target.empty() || HasLineBreak(target) || absl::StrContains(target, ' ')) {
    return absl::InvalidArgumentError("HTTP request target is empty or has spaces or breaks");
  }
  std::string head = absl::StrCat(
      method, " ", target, " HTTP/1.1\r\nHost: ", absl::StrContains(host_, ':') ? "[" : "", host_,
      absl::StrContains(host_, ':') ? "]" : "", ":", port_, "\r\n");
  for (const Http1Header& header : headers) {
    if (!IsHttpToken(header.name) || HasLineBreak(header.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP header \"", absl::CHexEscape(header.name), "\" is malformed"));
    }
    absl::StrAppend(&head, header.name, ": ", header.value, "\r\n");
  }
  absl::StrAppend(&head, "Content-Length: ", body.size(), "\r\n\r\n");

  for (int attempt = 0;; ++attempt) {
    bool reused = fd_ >= 0;
    if (reused && !StillOpen()) {
      Close();
      reused = false;
    }
    if (fd_ < 0) {
      if (absl::Status connected = Connect(deadline); !connected.ok()) return connected;
    }
    bool received = false;
    bool keep_alive = false;
    absl::StatusOr<Http1Response> response =
        Exchange(method, head, body, deadline, &received, &keep_alive);
    if (response.ok()) {
      if (!keep_alive) Close();
      return response;
    }
    Close();
    // An idle kept-alive connection the server closed as we reused it: the
    // request never reached a handler. Once more, on a new connection.
    if (reused && !received && attempt == 0 &&
        response.status().code() == absl::StatusCode::kUnavailable) {
      continue;
    }
    return response.status();
  }
}

}  // namespace tracebridge
