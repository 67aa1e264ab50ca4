// File: http/captured_headers.cc

#include "tracebridge/http/captured_headers.h"

#include <sstream>
#include <string>

#include "tracebridge/http/header_carrier.h"

namespace tracebridge {
namespace internal {
namespace {

thread_local absl::string_view current_head;

}  // namespace

ScopedRequestHead::ScopedRequestHead(absl::string_view head) noexcept : previous_(current_head) {
  current_head = head;
}

ScopedRequestHead::~ScopedRequestHead() { current_head = previous_; }

void CaptureRequestHeaders(const HeaderCapture& capture,
                           const Pistache::Http::Header::Collection& headers, Span& span) {
  if (capture.empty() || !span.IsRecording()) return;
  if (current_head.empty()) {
    CaptureHeaderCollection(capture, headers, span);
    return;
  }
  HeaderCapture::Values values;
  ForEachHeaderLine(current_head, [&](absl::string_view name, absl::string_view value) {
    capture.Add(&values, name, value);
  });
  capture.Apply(values, span);
}

void CaptureHeaderCollection(const HeaderCapture& capture,
                             const Pistache::Http::Header::Collection& headers, Span& span) {
  if (capture.empty() || !span.IsRecording()) return;
  HeaderCapture::Values values;
  const auto& raw = headers.rawList();
  for (const auto& entry : raw) capture.Add(&values, entry.first, entry.second.value());
  // Typed headers Pistache does not also keep raw.
  for (const auto& typed : headers.list()) {
    if (raw.count(typed->name()) == 0) CaptureHeader(capture, *typed, &values);
  }
  capture.Apply(values, span);
}

void CaptureHeader(const HeaderCapture& capture, const Pistache::Http::Header::Header& header,
                   HeaderCapture::Values* values) {
  std::ostringstream text;
  header.write(text);
  capture.Add(values, header.name(), text.str());
}

}  // namespace internal
}  // namespace tracebridge
