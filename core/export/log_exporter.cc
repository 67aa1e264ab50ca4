#include "tracebridge/core/export/log_exporter.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/variant.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes the fraction of `value` with `precision` digits into the buffer
// ending at `*end`, dropping trailing zeros (and the '.' when nothing is
// left), and returns `value` without the fraction. Go's fmtFrac.
uint64_t FormatFraction(char** end, uint64_t value, int precision) {
  bool print = false;
  for (int i = 0; i < precision; ++i) {
    const char digit = static_cast<char>(value % 10);
    print = print || digit != 0;
    if (print) *--*end = static_cast<char>('0' + digit);
    value /= 10;
  }
  if (print) *--*end = '.';
  return value;
}

// Go's fmtInt: `value` in decimal, right-aligned at `*end`.
void FormatInteger(char** end, uint64_t value) {
  if (value == 0) {
    *--*end = '0';
    return;
  }
  while (value > 0) {
    *--*end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The text form of a non-string attribute value (strings are returned as is).
absl::string_view AttributeText(const AttributeValue& value, char (&buffer)[32]) {
  if (const auto* text = absl::get_if<std::string>(&value)) return *text;
  char* end = buffer;
  if (const auto* integer = absl::get_if<int64_t>(&value)) {
    end = std::to_chars(buffer, buffer + sizeof(buffer), *integer).ptr;
  } else if (const auto* real = absl::get_if<double>(&value)) {
    end = std::to_chars(buffer, buffer + sizeof(buffer), *real).ptr;
  } else {
    return absl::get<bool>(value) ? "true" : "false";
  }
  return absl::string_view(buffer, static_cast<size_t>(end - buffer));
}

// The first of `keys` the span has, or nullptr.
const AttributeValue* FindFirst(const SpanData& span,
                                std::initializer_list<absl::string_view> keys) {
  for (absl::string_view key : keys) {
    if (const AttributeValue* value = span.FindAttribute(key)) return value;
  }
  return nullptr;
}

void AppendValueOf(const AttributeValue& value, size_t max_bytes, std::string* out) {
  char buffer[32];
  AppendLogValue(AttributeText(value, buffer), max_bytes, out);
}

template <size_t N>
void AppendId(const Id<N>& id, std::string* out) {
  char hex[Id<N>::kHexSize];
  id.ToHex(hex);
  out->append(hex, sizeof(hex));
}

// "YYYY/MM/DD HH:MM:SS " in UTC, as Go's log package with Ldate|Ltime|LUTC.
void AppendTimestamp(int64_t unix_nanos, std::string* out) {
  const absl::CivilSecond civil =
      absl::ToCivilSecond(absl::FromUnixNanos(unix_nanos), absl::UTCTimeZone());
  char text[32];
  const int size = std::snprintf(text, sizeof(text), "%04d/%02d/%02d %02d:%02d:%02d ",
                                 static_cast<int>(civil.year()), civil.month(), civil.day(),
                                 civil.hour(), civil.minute(), civil.second());
  if (size > 0) out->append(text, std::min(static_cast<size_t>(size), sizeof(text) - 1));
}

}  // namespace

void AppendGoDuration(int64_t nanos, std::string* out) {
  // A port of Go's Duration.format: digits are written backwards from the end
  // of a buffer large enough for "-2562047h47m16.854775808s".
  char buffer[32];
  char* end = buffer + sizeof(buffer);
  char* const last = end;
  const bool negative = nanos < 0;
  uint64_t value = negative ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  constexpr uint64_t kSecond = 1000000000;
  if (value < kSecond) {
    int precision = 0;
    *--end = 's';
    if (value == 0) {
      out->append("0s");
      return;
    } else if (value < 1000) {
      *--end = 'n';
    } else if (value < 1000000) {
      precision = 3;
      *--end = '\xB5';  // U+00B5 MICRO SIGN, as Go writes it
      *--end = '\xC2';
    } else {
      precision = 6;
      *--end = 'm';
    }
    value = FormatFraction(&end, value, precision);
    FormatInteger(&end, value);
  } else {
    *--end = 's';
    value = FormatFraction(&end, value, 9);
    FormatInteger(&end, value % 60);
    value /= 60;
    if (value > 0) {
      *--end = 'm';
      FormatInteger(&end, value % 60);
      value /= 60;
      if (value > 0) {
        *--end = 'h';
        FormatInteger(&end, value);
      }
    }
  }
  if (negative) *--end = '-';
  out->append(end, static_cast<size_t>(last - end));
}

void AppendLogValue(absl::string_view value, size_t max_bytes, std::string* out) {
  const size_t start = out->size();
  char escape[8];
  for (size_t pos = 0; pos < value.size();) {
    const Utf8Sequence sequence = DecodeUtf8(value, pos);
    absl::string_view piece;
    const uint32_t c = sequence.code_point;
    if (!sequence.well_formed) {
      piece = kUtf8Replacement;
    } else if (c == '\\') {
      piece = "\\\\";
    } else if (c == '\n') {
      piece = "\\n";
    } else if (c == '\r') {
      piece = "\\r";
    } else if (c == '\t') {
      piece = "\\t";
    } else if (c < 0x20 || c == 0x7F || c == ',') {
      escape[0] = '\\';
      escape[1] = 'x';
      escape[2] = kHexDigits[c >> 4];
      escape[3] = kHexDigits[c & 0xF];
      piece = absl::string_view(escape, 4);
    } else if ((c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029) {
      escape[0] = '\\';
      escape[1] = 'u';
      escape[2] = kHexDigits[(c >> 12) & 0xF];
      escape[3] = kHexDigits[(c >> 8) & 0xF];
      escape[4] = kHexDigits[(c >> 4) & 0xF];
      escape[5] = kHexDigits[c & 0xF];
      piece = absl::string_view(escape, 6);
    } else {
      piece = value.substr(pos, sequence.length);
    }
    if (out->size() - start + piece.size() > max_bytes) {
      out->append("...");
      return;
    }
    out->append(piece.data(), piece.size());
    pos += sequence.length;
  }
}

void LogLineExporter::AppendLine(const LogLineOptions& options, const Resource& resource,
                                 const SpanData& span, std::string* out) {
  const size_t max = options.max_value_bytes;
  if (options.timestamp_prefix) AppendTimestamp(span.end_unix_nanos, out);
  out->append("Service: ");
  AppendLogValue(resource.service_name, max, out);
  out->append(", TraceID: ");
  AppendId(span.context.trace_id(), out);
  out->append(", SpanID: ");
  AppendId(span.context.span_id(), out);
  out->append(", ParentSpanID: ");
  if (span.parent_span_id.IsValid()) AppendId(span.parent_span_id, out);

  out->append(", Method: ");
  if (const AttributeValue* method = FindFirst(span, {"http.request.method", "http.method"})) {
    AppendValueOf(*method, max, out);
  } else if (const AttributeValue* rpc_method = span.FindAttribute("rpc.method")) {
    AppendValueOf(*rpc_method, max, out);
  }

  out->append(", Path: ");
  if (const AttributeValue* path = FindFirst(span, {"http.route", "url.path", "http.target"})) {
    AppendValueOf(*path, max, out);
  } else {
    const AttributeValue* service = span.FindAttribute("rpc.service");
    const AttributeValue* method = span.FindAttribute("rpc.method");
    if (service != nullptr && method != nullptr) {
      // Each part is escaped on its own; the '/' separators are ours.
      char buffer[32];
      out->push_back('/');
      AppendLogValue(AttributeText(*service, buffer), max / 2, out);
      out->push_back('/');
      AppendLogValue(AttributeText(*method, buffer), max / 2, out);
    } else {
      AppendLogValue(span.name, max, out);
    }
  }

  out->append(", Duration: ");
  if (options.duration_format == LogDurationFormat::kMilliseconds) {
    absl::StrAppend(out, span.DurationNanos() / 1000000);
  } else {
    AppendGoDuration(span.DurationNanos(), out);
  }

  out->append(", Status: ");
  if (const AttributeValue* status = FindFirst(
          span, {"http.response.status_code", "http.status_code", "rpc.grpc.status_code"})) {
    AppendValueOf(*status, max, out);
  } else {
    out->append(StatusCodeName(span.status).data(), StatusCodeName(span.status).size());
  }
  out->push_back('\n');
}

absl::StatusOr<std::unique_ptr<LogLineExporter>> LogLineExporter::Create(LogLineOptions options) {
  if (options.max_value_bytes < 16 || options.max_value_bytes > 65536) {
    return absl::InvalidArgumentError(absl::StrCat(
        "log exporter: max_value_bytes must be 16 to 65536, not ", options.max_value_bytes));
  }
  if (options.path.empty()) {
    return std::unique_ptr<LogLineExporter>(
        new LogLineExporter(std::move(options), STDERR_FILENO, /*owns_fd=*/false));
  }
  const int fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("log exporter: cannot open ", options.path));
  }
  return std::unique_ptr<LogLineExporter>(
      new LogLineExporter(std::move(options), fd, /*owns_fd=*/true));
}

LogLineExporter::~LogLineExporter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

absl::Status LogLineExporter::Export(const Resource& resource,
                                     absl::Span<const std::unique_ptr<SpanData>> spans,
                                     absl::Time deadline) {
  (void)deadline;
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) {
    lines_failed_.fetch_add(spans.size(), std::memory_order_relaxed);
    return absl::FailedPreconditionError("log exporter: shut down");
  }
  buffer_.clear();
  for (const auto& span : spans) AppendLine(options_, resource, *span, &buffer_);
  size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      size_t complete = 0;
      for (size_t i = 0; i < written; ++i) complete += buffer_[i] == '\n';
      lines_written_.fetch_add(complete, std::memory_order_relaxed);
      lines_failed_.fetch_add(spans.size() - complete, std::memory_order_relaxed);
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      return absl::ErrnoToStatus(error,
                                 absl::StrCat("log exporter: write to ",
                                              options_.path.empty() ? "stderr" : options_.path));
    }
    written += static_cast<size_t>(n);
  }
  lines_written_.fetch_add(spans.size(), std::memory_order_relaxed);
  // A batch of huge spans should not pin its buffer forever.
  if (buffer_.capacity() > (size_t{1} << 20)) std::string().swap(buffer_);
  return absl::OkStatus();
}

absl::Status LogLineExporter::Shutdown(absl::Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  absl::Status status;
  if (owns_fd_ && ::close(fd_) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("log exporter: close ", options_.path));
  }
  fd_ = -1;
  return status;
}

LogLineStats LogLineExporter::Stats() const noexcept {
  LogLineStats stats;
  stats.lines_written = lines_written_.load(std::memory_order_relaxed);
  stats.lines_failed = lines_failed_.load(std::memory_order_relaxed);
  stats.write_errors = write_errors_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace tracebridge
