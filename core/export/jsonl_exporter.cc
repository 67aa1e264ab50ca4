#include "tracebridge/core/export/jsonl_exporter.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/variant.h"
#include "tracebridge/core/util/json_writer.h"

namespace tracebridge {
namespace {

constexpr int kOpenFlags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
constexpr mode_t kFileMode = 0644;

// Writes all of `data` unless a call fails; returns the bytes written and
// leaves errno set when fewer.
size_t WriteFully(int fd, absl::string_view data) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return written;
    }
    written += static_cast<size_t>(n);
  }
  return written;
}

template <typename Attributes>
void WriteAttributes(const Attributes& attributes, JsonWriter& json) {
  json.BeginObject();
  for (const Attribute& attribute : attributes) {
    json.Key(attribute.key);
    absl::visit(
        [&json](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            json.String(value);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            json.Int(value);
          } else if constexpr (std::is_same_v<T, double>) {
            json.Double(value);
          } else {
            json.Bool(value);
          }
        },
        attribute.value);
  }
  json.EndObject();
}

// Ids and flags are hex by construction; they skip the string escaper.
template <size_t N>
void WriteId(const Id<N>& id, JsonWriter& json) {
  char hex[Id<N>::kHexSize];
  id.ToHex(hex);
  json.String(absl::string_view(hex, sizeof(hex)));
}

void WriteFlags(TraceFlags flags, JsonWriter& json) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const char hex[2] = {kDigits[flags.bits() >> 4], kDigits[flags.bits() & 0xF]};
  json.String(absl::string_view(hex, 2));
}

// The members as `key=value` joined with ',' (the header form without the
// 512-character shortening: the file keeps everything the span carried).
void WriteTraceState(const TraceState& state, std::string* scratch, JsonWriter& json) {
  scratch->clear();
  for (const TraceState::Member& member : state.members()) {
    if (!scratch->empty()) scratch->push_back(',');
    absl::StrAppend(scratch, member.key, "=", member.value);
  }
  json.String(*scratch);
}

absl::Status OpenStatus(int error, absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat("jsonl exporter: cannot open ", path));
}

}  // namespace

std::string DefaultJsonLinesPath(absl::string_view service_name) {
  const char* explicit_path = std::getenv("TRACEBRIDGE_SPAN_FILE");
  if (explicit_path != nullptr && explicit_path[0] != '\0') return explicit_path;
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = (tmpdir != nullptr && tmpdir[0] != '\0') ? tmpdir : "/tmp";
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string service;
  for (char c : service_name.substr(0, 64)) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    service.push_back(safe ? c : '_');
  }
  if (service.empty()) service = "unknown_service";
  absl::StrAppend(&path, path == "/" ? "" : "/", "tracebridge-", service, "-",
                  static_cast<int64_t>(::getpid()), ".jsonl");
  return path;
}

void JsonLinesExporter::AppendSpanLine(const Resource& resource, const SpanData& span,
                                       std::string* out) {
  JsonWriter json(out);
  json.BeginObject();
  json.Key("service_name").String(resource.service_name);
  json.Key("resource_attributes");
  WriteAttributes(resource.attributes, json);
  json.Key("trace_id");
  WriteId(span.context.trace_id(), json);
  json.Key("span_id");
  WriteId(span.context.span_id(), json);
  json.Key("parent_span_id");
  if (span.parent_span_id.IsValid()) {
    WriteId(span.parent_span_id, json);
  } else {
    json.String("");
  }
  json.Key("parent_is_remote").Bool(span.parent_is_remote);
  std::string trace_state;  // stays in the small-string buffer when empty
  json.Key("trace_state");
  WriteTraceState(span.context.trace_state(), &trace_state, json);
  json.Key("trace_flags");
  WriteFlags(span.context.trace_flags(), json);
  json.Key("name").String(span.name);
  json.Key("kind").String(SpanKindName(span.kind));
  json.Key("start_unix_nanos").Int(span.start_unix_nanos);
  json.Key("end_unix_nanos").Int(span.end_unix_nanos);
  json.Key("duration_ns").Int(span.DurationNanos());
  json.Key("attributes");
  WriteAttributes(span.attributes, json);
  json.Key("events").BeginArray();
  for (const SpanEvent& event : span.events) {
    json.BeginObject();
    json.Key("name").String(event.name);
    json.Key("time_unix_nanos").Int(event.time_unix_nanos);
    json.Key("attributes");
    WriteAttributes(event.attributes, json);
    json.Key("dropped_attributes").Uint(event.dropped_attributes);
    json.EndObject();
  }
  json.EndArray();
  json.Key("links").BeginArray();
  for (const SpanLink& link : span.links) {
    json.BeginObject();
    json.Key("trace_id");
    WriteId(link.context.trace_id(), json);
    json.Key("span_id");
    WriteId(link.context.span_id(), json);
    json.Key("trace_state");
    WriteTraceState(link.context.trace_state(), &trace_state, json);
    json.Key("trace_flags");
    WriteFlags(link.context.trace_flags(), json);
    json.Key("attributes");
    WriteAttributes(link.attributes, json);
    json.Key("dropped_attributes").Uint(link.dropped_attributes);
    json.EndObject();
  }
  json.EndArray();
  json.Key("status").BeginObject();
  json.Key("code").String(StatusCodeName(span.status));
  json.Key("description").String(span.status_description);
  json.EndObject();
  json.Key("dropped_attributes").Uint(span.dropped_attributes);
  json.Key("dropped_events").Uint(span.dropped_events);
  json.Key("dropped_links").Uint(span.dropped_links);
  json.EndObject();
  out->push_back('\n');
}

absl::StatusOr<std::unique_ptr<JsonLinesExporter>> JsonLinesExporter::Create(
    JsonLinesOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("jsonl exporter: path is empty");
  }
  if (options.path.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("jsonl exporter: path names a directory: ", options.path));
  }
  if (options.max_file_bytes == 0) {
    return absl::InvalidArgumentError("jsonl exporter: max_file_bytes must be at least 1");
  }
  if (options.max_files < 1 || options.max_files > kMaxFilesLimit) {
    return absl::InvalidArgumentError(absl::StrCat("jsonl exporter: max_files must be 1 to ",
                                                   kMaxFilesLimit, ", not ", options.max_files));
  }
  const size_t slash = options.path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : options.path.substr(0, slash));
  struct stat directory_stat;
  if (::stat(directory.c_str(), &directory_stat) != 0) {
    const int error = errno;
    if (error == ENOENT) {
      return absl::NotFoundError(absl::StrCat("jsonl exporter: directory ", directory,
                                              " does not exist (for ", options.path,
                                              "); it is not created automatically"));
    }
    return absl::ErrnoToStatus(error, absl::StrCat("jsonl exporter: cannot stat ", directory));
  }
  if (!S_ISDIR(directory_stat.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("jsonl exporter: ", directory, " is not a directory"));
  }
  const int fd = ::open(options.path.c_str(), kOpenFlags, kFileMode);
  if (fd < 0) return OpenStatus(errno, options.path);
  struct stat file_stat;
  if (::fstat(fd, &file_stat) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat("jsonl exporter: cannot stat ", options.path));
  }
  const bool regular = S_ISREG(file_stat.st_mode);
  return std::unique_ptr<JsonLinesExporter>(new JsonLinesExporter(
      std::move(options), fd, regular ? static_cast<uint64_t>(file_stat.st_size) : 0, regular));
}

JsonLinesExporter::JsonLinesExporter(JsonLinesOptions options, int fd, uint64_t file_bytes,
                                     bool rotatable)
    : options_(std::move(options)), rotatable_(rotatable), fd_(fd), file_bytes_(file_bytes) {}

JsonLinesExporter::~JsonLinesExporter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!shut_down_) {
    FlushLocked().IgnoreError();  // counted in the stats; nobody to report to
  }
  if (fd_ >= 0) ::close(fd_);
}

absl::Status JsonLinesExporter::EnsureOpen() {
  if (fd_ >= 0) return absl::OkStatus();
  fd_ = ::open(options_.path.c_str(), kOpenFlags, kFileMode);
  if (fd_ < 0) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return OpenStatus(errno, options_.path);
  }
  struct stat file_stat;
  file_bytes_ = ::fstat(fd_, &file_stat) == 0 ? static_cast<uint64_t>(file_stat.st_size) : 0;
  // Lines still pending belong to the file now open.
  file_bytes_ += pending_.size();
  return absl::OkStatus();
}

absl::Status JsonLinesExporter::WritePending(size_t size, size_t lines) {
  const size_t all_lines = lines;
  absl::Status status;
  if (line_broken_) {
    if (WriteFully(fd_, "\n") == 1) {
      line_broken_ = false;
    } else {
      status = absl::ErrnoToStatus(errno, absl::StrCat("jsonl exporter: write to ", options_.path));
    }
  }
  if (status.ok()) {
    const size_t written = WriteFully(fd_, absl::string_view(pending_.data(), size));
    if (written == size) {
      spans_written_.fetch_add(lines, std::memory_order_relaxed);
    } else {
      status = absl::ErrnoToStatus(errno, absl::StrCat("jsonl exporter: write to ", options_.path));
      if (written > 0) {
        line_broken_ = pending_[written - 1] != '\n';
        // Whole lines that made it count as written.
        size_t complete = 0;
        for (size_t i = 0; i < written; ++i) complete += pending_[i] == '\n';
        spans_written_.fetch_add(complete, std::memory_order_relaxed);
        lines -= complete;
      }
    }
  }
  if (!status.ok()) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    spans_failed_.fetch_add(lines, std::memory_order_relaxed);
  }
  pending_.erase(0, size);
  pending_lines_ -= all_lines;
  return status;
}

absl::Status JsonLinesExporter::Rotate() {
  ::close(fd_);
  fd_ = -1;
  int flags = kOpenFlags;
  if (options_.max_files == 1) {
    flags |= O_TRUNC;
  } else {
    // Shift newest to oldest; each rename replaces its target, so the oldest
    // file disappears when `path.{max_files-2}` takes its name.
    for (uint32_t i = options_.max_files - 1; i >= 1; --i) {
      const std::string from = i == 1 ? options_.path : absl::StrCat(options_.path, ".", i - 1);
      const std::string to = absl::StrCat(options_.path, ".", i);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        const int error = errno;
        write_errors_.fetch_add(1, std::memory_order_relaxed);
        // Reopen the current file so the next batch can try again.
        fd_ = ::open(options_.path.c_str(), kOpenFlags, kFileMode);
        return absl::ErrnoToStatus(error,
                                   absl::StrCat("jsonl exporter: rotate ", from, " to ", to));
      }
    }
  }
  line_broken_ = false;  // a fresh file has no fragment to end
  fd_ = ::open(options_.path.c_str(), flags, kFileMode);
  if (fd_ < 0) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return OpenStatus(errno, options_.path);
  }
  file_bytes_ = 0;
  rotations_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status JsonLinesExporter::Export(const Resource& resource,
                                       absl::Span<const std::unique_ptr<SpanData>> spans,
                                       absl::Time deadline) {
  (void)deadline;  // see the file comment
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) {
    spans_failed_.fetch_add(spans.size(), std::memory_order_relaxed);
    return absl::FailedPreconditionError("jsonl exporter: shut down");
  }
  absl::Status status = EnsureOpen();
  if (!status.ok()) {
    spans_failed_.fetch_add(spans.size(), std::memory_order_relaxed);
    return status;
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    const size_t line_start = pending_.size();
    AppendSpanLine(resource, *spans[i], &pending_);
    const size_t line_size = pending_.size() - line_start;
    if (rotatable_ && file_bytes_ > 0 && file_bytes_ + line_size > options_.max_file_bytes) {
      // The earlier lines finish the current file; this one starts the next.
      status = WritePending(line_start, pending_lines_);
      if (status.ok()) status = Rotate();
      if (!status.ok()) {
        // This line and the rest of the batch are lost with it.
        spans_failed_.fetch_add(spans.size() - i, std::memory_order_relaxed);
        pending_.clear();
        pending_lines_ = 0;
        return status;
      }
    }
    file_bytes_ += line_size;
    ++pending_lines_;
  }
  if (options_.flush_each_batch || pending_.size() >= kWriteBufferBytes) {
    status = WritePending(pending_.size(), pending_lines_);
  }
  return status;
}

absl::Status JsonLinesExporter::FlushLocked() {
  if (pending_.empty()) return absl::OkStatus();
  absl::Status status = EnsureOpen();
  if (!status.ok()) {
    spans_failed_.fetch_add(pending_lines_, std::memory_order_relaxed);
    pending_.clear();
    pending_lines_ = 0;
    return status;
  }
  return WritePending(pending_.size(), pending_lines_);
}

absl::Status JsonLinesExporter::ForceFlush(absl::Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) return absl::OkStatus();
  return FlushLocked();
}

absl::Status JsonLinesExporter::Shutdown(absl::Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) return absl::OkStatus();
  absl::Status status = FlushLocked();
  shut_down_ = true;
  if (fd_ >= 0 && ::close(fd_) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("jsonl exporter: close ", options_.path));
  }
  fd_ = -1;
  return status;
}

JsonLinesStats JsonLinesExporter::Stats() const noexcept {
  JsonLinesStats stats;
  stats.spans_written = spans_written_.load(std::memory_order_relaxed);
  stats.spans_failed = spans_failed_.load(std::memory_order_relaxed);
  stats.write_errors = write_errors_.load(std::memory_order_relaxed);
  stats.rotations = rotations_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace tracebridge
