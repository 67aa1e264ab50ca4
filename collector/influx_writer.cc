#include "tracebridge/collector/influx_writer.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tracebridge/exporters/otlp/otlp_options.h"

namespace tracebridge {
namespace {

// InfluxDB's default max-body-size is 25 MB; stay well below it.
constexpr size_t kMaxBatchBytes = size_t{4} << 20;

}  // namespace

std::string InfluxUrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

// How many lines of a batch InfluxDB says it refused in a 400 answer: one
// "unable to parse" per unreadable line, plus `dropped=N` for lines it read
// but would not store (a field type conflict, outside the retention policy).
size_t RefusedLines(absl::string_view body) {
  size_t refused = 0;
  for (size_t at = body.find("unable to parse"); at != absl::string_view::npos;
       at = body.find("unable to parse", at + 1)) {
    ++refused;
  }
  for (size_t at = body.find("dropped="); at != absl::string_view::npos;
       at = body.find("dropped=", at + 1)) {
    absl::string_view rest = body.substr(at + 8);
    size_t digits = 0;
    while (digits < rest.size() && absl::ascii_isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    size_t n = 0;
    if (absl::SimpleAtoi(rest.substr(0, digits), &n)) refused += n;
  }
  return refused;
}

std::string Shorten(absl::string_view text) {
  return std::string(text.size() > 300 ? absl::StrCat(text.substr(0, 300), "…") : text);
}

}  // namespace

absl::StatusOr<std::unique_ptr<InfluxWriter>> InfluxWriter::Start(InfluxWriterOptions options) {
  absl::StatusOr<internal::OtlpHttpUrl> url = internal::ParseOtlpHttpUrl(options.url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("InfluxDB URL \"", options.url, "\": ", url.status().message()));
  }
  if (url->tls) return absl::InvalidArgumentError("InfluxDB URL: https is not supported");
  if (options.precision != "ns" && options.precision != "u" && options.precision != "ms" &&
      options.precision != "s") {
    return absl::InvalidArgumentError(
        absl::StrCat("precision \"", options.precision, "\": expected ns, u, ms or s"));
  }
  if (options.database.empty()) return absl::InvalidArgumentError("empty InfluxDB database");
  if (options.max_buffered_points == 0 || options.max_buffered_bytes == 0 ||
      options.max_batch_points == 0) {
    return absl::InvalidArgumentError("buffer and batch bounds must be at least 1");
  }
  std::string base_path(absl::StripSuffix(url->target, "/"));
  if (base_path.find('?') != std::string::npos) {
    return absl::InvalidArgumentError("InfluxDB URL: no query string expected");
  }
  std::unique_ptr<InfluxWriter> writer(new InfluxWriter(std::move(options), url->host, url->port,
                                                        std::move(base_path), url->host_header));
  writer->thread_ = std::thread([w = writer.get()] { w->Run(); });
  return writer;
}

InfluxWriter::InfluxWriter(InfluxWriterOptions options, std::string host, int port,
                           std::string base_path, std::string host_header)
    : options_(std::move(options)),
      base_path_(std::move(base_path)),
      host_header_(std::move(host_header)),
      write_target_(
          absl::StrCat(base_path_, "/write?db=", InfluxUrlEncode(options_.database),
                       options_.retention_policy.empty()
                           ? ""
                           : absl::StrCat("&rp=", InfluxUrlEncode(options_.retention_policy)),
                       "&precision=", options_.precision)),
      client_(std::move(host), port) {}

InfluxWriter::~InfluxWriter() { Stop(); }

void LogToStderr(const std::string& message) {
  std::fprintf(stderr, "collector: %s\n", message.c_str());
}

void InfluxWriter::Log(const std::string& message) {
  (options_.log ? options_.log : LogToStderr)(message);
}

size_t InfluxWriter::Offer(std::vector<std::string> lines) {
  size_t accepted = 0;
  bool started_dropping = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.offered += lines.size();
    for (std::string& line : lines) {
      if (stopping_ || buffer_.size() >= options_.max_buffered_points ||
          buffered_bytes_ + line.size() + 1 > options_.max_buffered_bytes) {
        break;
      }
      buffered_bytes_ += line.size() + 1;
      buffer_.push_back(std::move(line));
      ++accepted;
    }
    const size_t dropped = lines.size() - accepted;
    if (dropped > 0) {
      if (stopping_) {
        stats_.dropped_shutdown += dropped;
      } else {
        started_dropping = stats_.dropped_buffer_full == 0 || !dropping_;
        dropping_ = true;
        stats_.dropped_buffer_full += dropped;
      }
    }
    stats_.buffered = buffer_.size();
  }
  if (accepted > 0) changed_.notify_all();
  if (started_dropping) {
    Log(absl::StrCat("InfluxDB buffer full (", options_.max_buffered_points, " points, ",
                     options_.max_buffered_bytes,
                     " bytes): dropping new points until writes catch up"));
  }
  return accepted;
}

std::vector<Http1Header> InfluxWriter::Headers(const char* content_type) const {
  std::vector<Http1Header> headers = {{"Content-Type", content_type}};
  if (!options_.username.empty()) {
    headers.push_back(
        {"Authorization", absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(
                                                     options_.username, ":", options_.password)))});
  }
  return headers;
}

bool InfluxWriter::CreateDatabase() {
  std::string name;
  for (char c : options_.database) {
    if (c == '"' || c == '\\') name.push_back('\\');
    name.push_back(c);
  }
  const std::string body = "q=" + InfluxUrlEncode(absl::StrCat("CREATE DATABASE \"", name, "\""));
  absl::StatusOr<Http1Response> response = client_.Send(
      "POST", absl::StrCat(base_path_, "/query"), Headers("application/x-www-form-urlencoded"),
      body, absl::Now() + options_.request_timeout);
  return response.ok() && response->status == 200 &&
         !absl::StrContains(response->body, "\"error\"");
}

InfluxWriter::BatchResult InfluxWriter::WriteBatch(const std::string& body, size_t points,
                                                   absl::Time deadline) {
  BatchResult result;
  if (options_.create_database && !database_ready_) database_ready_ = CreateDatabase();
  absl::StatusOr<Http1Response> response =
      client_.Send("POST", write_target_, Headers("text/plain; charset=utf-8"), body, deadline);
  if (!response.ok()) {
    result.error = std::string(response.status().message());
    return result;
  }
  const int status = response->status;
  if (status >= 200 && status < 300) {
    result.done = true;
    result.written = points;
    return result;
  }
  if (status == 400 || status == 413) {
    result.done = true;
    const size_t refused = status == 413 ? points : std::min(points, RefusedLines(response->body));
    result.rejected = refused == 0 ? points : refused;
    result.written = points - result.rejected;
    result.error = absl::StrCat("HTTP ", status, ": ", Shorten(response->body));
    return result;
  }
  if (status == 404) database_ready_ = false;  // "database not found": create it again
  result.error = absl::StrCat("HTTP ", status, ": ", Shorten(response->body));
  return result;
}

void InfluxWriter::Run() {
  absl::Duration backoff = options_.retry_initial_backoff;
  uint64_t failures_in_a_row = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !buffer_.empty() || stopping_; });
    if (buffer_.empty() || (stopping_ && absl::Now() >= flush_deadline_)) break;
    size_t points = 0;
    std::string body;
    for (const std::string& line : buffer_) {
      if (points == options_.max_batch_points ||
          (points > 0 && body.size() + line.size() + 1 > kMaxBatchBytes)) {
        break;
      }
      body.append(line);
      body.push_back('\n');
      ++points;
    }
    in_flight_ = points;
    const absl::Time deadline = std::min(absl::Now() + options_.request_timeout, flush_deadline_);
    lock.unlock();
    const BatchResult result = WriteBatch(body, points, deadline);
    std::string message;
    if (result.done) {
      if (failures_in_a_row > 0) {
        message = absl::StrCat("InfluxDB writes succeed again after ", failures_in_a_row,
                               " failed attempts");
      }
      if (result.rejected > 0) {
        message = absl::StrCat("InfluxDB refused ", result.rejected, " of ", points,
                               " points: ", result.error);
      }
      failures_in_a_row = 0;
      backoff = options_.retry_initial_backoff;
    } else if (failures_in_a_row++ == 0) {
      message = absl::StrCat("InfluxDB write failed (", result.error, "); retrying every ",
                             absl::FormatDuration(options_.retry_initial_backoff), " to ",
                             absl::FormatDuration(options_.retry_max_backoff),
                             " while the buffer holds the points");
    }
    if (!message.empty()) Log(message);
    lock.lock();
    in_flight_ = 0;
    ++stats_.requests;
    if (result.done) {
      for (size_t i = 0; i < points; ++i) {
        buffered_bytes_ -= buffer_.front().size() + 1;
        buffer_.pop_front();
      }
      stats_.written += result.written;
      stats_.rejected += result.rejected;
      stats_.buffered = buffer_.size();
      dropping_ = false;
      changed_.notify_all();
      continue;
    }
    ++stats_.failed_requests;
    const absl::Time retry_at = std::min(absl::Now() + backoff, flush_deadline_);
    backoff = std::min(backoff * 2, options_.retry_max_backoff);
    // Woken early only by Stop, which moves the flush deadline.
    changed_.wait_for(
        lock, absl::ToChronoNanoseconds(std::max(retry_at - absl::Now(), absl::ZeroDuration())));
  }
  stats_.dropped_shutdown += buffer_.size();
  buffer_.clear();
  buffered_bytes_ = 0;
  stats_.buffered = 0;
  finished_ = true;
  changed_.notify_all();
}

bool InfluxWriter::WaitUntilFlushed(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return buffer_.empty(); });
}

void InfluxWriter::Stop() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!stopping_) {
    stopping_ = true;
    flush_deadline_ = absl::Now() + options_.flush_timeout;
    changed_.notify_all();
  }
  if (!thread_.joinable()) return;
  // A request in flight past the flush deadline is cut short.
  if (!changed_.wait_for(lock, absl::ToChronoNanoseconds(options_.flush_timeout + absl::Seconds(1)),
                         [&] { return finished_; })) {
    client_.Cancel();
  }
  lock.unlock();
  thread_.join();
}

InfluxWriterStats InfluxWriter::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace tracebridge
