#include "tracebridge/core/trace/span.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {
namespace {

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
absl::string_view CutUtf8(absl::string_view text, size_t max) noexcept {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

thread_local const Scope* current_scope = nullptr;

}  // namespace

Span::Span(Span&& other) noexcept
    : context_(std::move(other.context_)),
      data_(std::move(other.data_)),
      start_monotonic_nanos_(other.start_monotonic_nanos_),
      tracer_(other.tracer_),
      at_end_(other.at_end_) {
  other.tracer_ = nullptr;
}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    context_ = std::move(other.context_);
    data_ = std::move(other.data_);
    start_monotonic_nanos_ = other.start_monotonic_nanos_;
    tracer_ = other.tracer_;
    at_end_ = other.at_end_;
    other.tracer_ = nullptr;
  }
  return *this;
}

void Span::SetAttributeValue(absl::string_view key, AttributeValue value) noexcept {
  const SpanLimits& limits = tracer_->limits();
  for (Attribute& attribute : data_->attributes) {
    if (attribute.key == key) {
      attribute.value = std::move(value);
      return;
    }
  }
  if (data_->attributes.size() >= limits.max_attributes) {
    ++data_->dropped_attributes;
    return;
  }
  Attribute& added = data_->attributes.emplace_back();
  const absl::string_view cut = CutUtf8(key, limits.max_string_length);
  added.key.assign(cut.data(), cut.size());
  added.value = std::move(value);
}

void Span::SetAttribute(absl::string_view key, absl::string_view value) noexcept {
  if (data_ == nullptr) return;
  SetAttributeValue(key, std::string(CutUtf8(value, tracer_->limits().max_string_length)));
}

void Span::SetAttribute(absl::string_view key, int64_t value) noexcept {
  if (data_ != nullptr) SetAttributeValue(key, value);
}

void Span::SetAttribute(absl::string_view key, double value) noexcept {
  if (data_ != nullptr) SetAttributeValue(key, value);
}

void Span::SetAttribute(absl::string_view key, bool value) noexcept {
  if (data_ != nullptr) SetAttributeValue(key, value);
}

void Span::AddEvent(absl::string_view name, std::vector<Attribute> attributes) noexcept {
  if (data_ == nullptr) return;
  const SpanLimits& limits = tracer_->limits();
  if (data_->events.size() >= limits.max_events) {
    ++data_->dropped_events;
    return;
  }
  SpanEvent event;
  event.name = std::string(CutUtf8(name, limits.max_string_length));
  event.time_unix_nanos = data_->start_unix_nanos + (MonotonicNanosNow() - start_monotonic_nanos_);
  if (attributes.size() > limits.max_attributes_per_event) {
    event.dropped_attributes =
        static_cast<uint32_t>(attributes.size() - limits.max_attributes_per_event);
    attributes.resize(limits.max_attributes_per_event);
  }
  event.attributes = std::move(attributes);
  data_->events.push_back(std::move(event));
}

void Span::AddLink(const SpanContext& context, std::vector<Attribute> attributes) noexcept {
  if (data_ == nullptr || !context.IsValid()) return;
  const SpanLimits& limits = tracer_->limits();
  if (data_->links.size() >= limits.max_links) {
    ++data_->dropped_links;
    return;
  }
  SpanLink link;
  link.context = context;
  if (attributes.size() > limits.max_attributes_per_link) {
    link.dropped_attributes =
        static_cast<uint32_t>(attributes.size() - limits.max_attributes_per_link);
    attributes.resize(limits.max_attributes_per_link);
  }
  link.attributes = std::move(attributes);
  data_->links.push_back(std::move(link));
}

void Span::SetStatus(StatusCode code, absl::string_view description) noexcept {
  if (data_ == nullptr || code == StatusCode::kUnset || data_->status == StatusCode::kOk) return;
  data_->status = code;
  if (code == StatusCode::kError) {
    data_->status_description =
        std::string(CutUtf8(description, tracer_->limits().max_string_length));
  } else {
    data_->status_description.clear();
  }
}

void Span::RecordError(absl::string_view type, absl::string_view message) noexcept {
  if (data_ == nullptr) return;
  const size_t max = tracer_->limits().max_string_length;
  std::vector<Attribute> attributes;
  attributes.push_back(Attribute{"exception.type", std::string(CutUtf8(type, max))});
  attributes.push_back(Attribute{"exception.message", std::string(CutUtf8(message, max))});
  AddEvent("exception", std::move(attributes));
  SetStatus(StatusCode::kError, message);
}

void Span::UpdateName(absl::string_view name) noexcept {
  if (data_ != nullptr)
    data_->name = std::string(CutUtf8(name, tracer_->limits().max_string_length));
}

void Span::End() noexcept {
  if (data_ == nullptr) return;
  data_->end_unix_nanos = data_->start_unix_nanos + (MonotonicNanosNow() - start_monotonic_nanos_);
  tracer_->OnEnd(std::move(data_), at_end_);
  data_ = nullptr;
}

Scope::Scope(Span& span) noexcept : Scope(span, CurrentBaggage()) {}

Scope::Scope(Span& span, Baggage baggage) noexcept
    : span_(&span),
      baggage_(std::move(baggage)),
      previous_(current_scope),
      thread_(std::this_thread::get_id()) {
  current_scope = this;
}

Scope::~Scope() {
  const bool right_thread = thread_ == std::this_thread::get_id();
  const bool innermost = current_scope == this;
  if (right_thread && innermost) {
    current_scope = previous_;
    return;
  }
#ifndef NDEBUG
  std::fprintf(stderr,
               "tracebridge: Scope destroyed %s; scopes must end on the thread that created "
               "them, innermost first\n",
               right_thread ? "out of order" : "on the wrong thread");
  std::abort();
#endif
}

Span& CurrentSpan() noexcept {
  thread_local Span null_span;
  return current_scope != nullptr ? *current_scope->span_ : null_span;
}

const Baggage& CurrentBaggage() noexcept {
  thread_local const Baggage empty;
  return current_scope != nullptr ? current_scope->baggage_ : empty;
}

absl::string_view SpanKindName(SpanKind kind) noexcept {
  switch (kind) {
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
  }
  return "internal";
}

absl::string_view StatusCodeName(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kUnset:
      return "unset";
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kError:
      return "error";
  }
  return "unset";
}

const AttributeValue* SpanData::FindAttribute(absl::string_view key) const noexcept {
  for (const Attribute& attribute : attributes) {
    if (attribute.key == key) return &attribute.value;
  }
  return nullptr;
}

}  // namespace tracebridge
