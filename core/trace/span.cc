#include "tracebridge/core/trace/span.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/trace/tracer.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

thread_local const Scope* current_scope = nullptr;

}  // namespace

namespace internal {

void MakeValidAttributes(std::vector<Attribute>* attributes, size_t max_string_length) {
  for (Attribute& attribute : *attributes) {
    MakeValidUtf8(&attribute.key, max_string_length);
    if (std::string* value = absl::get_if<std::string>(&attribute.value)) {
      MakeValidUtf8(value, max_string_length);
    }
  }
}

}  // namespace internal

Span::Span(Span&& other) noexcept
    : context_(std::move(other.context_)),
      data_(std::move(other.data_)),
      start_monotonic_nanos_(other.start_monotonic_nanos_),
      tracer_(other.tracer_),
      key_bits_(other.key_bits_),
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
    key_bits_ = other.key_bits_;
    at_end_ = other.at_end_;
    other.tracer_ = nullptr;
  }
  return *this;
}

Attribute* Span::AttributeFor(absl::string_view key) noexcept {
  const SpanLimits& limits = tracer_->limits();
  if (!IsValidUtf8Within(key, limits.max_string_length)) return AttributeForRepaired(key);
  AttributeList& attributes = data_->attributes;
  const uint64_t bit = internal::KeyBit(key);
  if ((key_bits_ & bit) != 0) {
    if (Attribute* same = attributes.Find(key)) return same;
  }
  if (attributes.size() >= limits.max_attributes) {
    ++data_->dropped_attributes;
    return nullptr;
  }
  key_bits_ |= bit;
  // A recycled record's entry, whose buffers take the key and value; often
  // it held this very key already.
  return &attributes.AppendReusing(key);
}

Attribute* Span::AttributeForRepaired(absl::string_view key) noexcept {
  // Keys are stored repaired and cut, so look the stored form up: the same
  // raw key set twice must replace, not add a second attribute.
  const std::string repaired = ValidUtf8Copy(key, tracer_->limits().max_string_length);
  return AttributeFor(repaired);
}

void Span::SetAttribute(absl::string_view key, absl::string_view value) noexcept {
  if (data_ == nullptr) return;
  Attribute* attribute = AttributeFor(key);
  if (attribute == nullptr) return;
  std::string* text = absl::get_if<std::string>(&attribute->value);
  if (text == nullptr) {
    text = &attribute->value.emplace<std::string>();
  } else if (internal::SameText(*text, value)) {
    return;  // stored text is valid and within the limit, so `value` is too
  }
  AssignValidUtf8(value, tracer_->limits().max_string_length, text);
}

void Span::SetAttribute(absl::string_view key, int64_t value) noexcept {
  if (data_ == nullptr) return;
  if (Attribute* attribute = AttributeFor(key)) attribute->value = value;
}

void Span::SetAttribute(absl::string_view key, double value) noexcept {
  if (data_ == nullptr) return;
  if (Attribute* attribute = AttributeFor(key)) attribute->value = value;
}

void Span::SetAttribute(absl::string_view key, bool value) noexcept {
  if (data_ == nullptr) return;
  if (Attribute* attribute = AttributeFor(key)) attribute->value = value;
}

void Span::SetAttributes(const PreparedAttributes& prepared) noexcept {
  if (data_ == nullptr) return;
  const SpanLimits& limits = tracer_->limits();
  const AttributeList& from = prepared.attributes();
  AttributeList& to = data_->attributes;
  if (to.empty() && from.size() <= limits.max_attributes &&
      prepared.longest() <= limits.max_string_length) {
    // Valid, distinct and within the limits already: copy into the record's
    // entries, whose buffers often hold these very strings.
    key_bits_ |= prepared.key_bits();
    to.AssignPrepared(from, prepared.id());
    return;
  }
  for (const Attribute& attribute : from) {
    absl::visit([&](const auto& value) { SetAttribute(attribute.key, value); }, attribute.value);
  }
}

PreparedAttributes::PreparedAttributes(std::vector<Attribute> attributes) {
  static std::atomic<uint64_t> next_id{1};
  id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  internal::MakeValidAttributes(&attributes, std::numeric_limits<size_t>::max());
  for (Attribute& attribute : attributes) {
    Attribute* same = attributes_.Find(attribute.key);
    if (same == nullptr) same = &attributes_.AppendReusing(attribute.key);
    same->value = std::move(attribute.value);
    longest_ = std::max(longest_, same->key.size());
    key_bits_ |= internal::KeyBit(same->key);
    if (const std::string* text = absl::get_if<std::string>(&same->value)) {
      longest_ = std::max(longest_, text->size());
    }
  }
}

void Span::AddEvent(absl::string_view name, std::vector<Attribute> attributes) noexcept {
  if (data_ == nullptr) return;
  AddEventAt(MonotonicNanosNow(), name, std::move(attributes));
}

void Span::CountDroppedEvents(uint32_t count) noexcept {
  if (data_ != nullptr) data_->dropped_events += count;
}

void Span::AddEventAt(int64_t monotonic_nanos, absl::string_view name,
                      std::vector<Attribute> attributes) noexcept {
  if (data_ == nullptr) return;
  const SpanLimits& limits = tracer_->limits();
  if (data_->events.size() >= limits.max_events) {
    ++data_->dropped_events;
    return;
  }
  SpanEvent event;
  event.name = ValidUtf8Copy(name, limits.max_string_length);
  event.time_unix_nanos = data_->start_unix_nanos + (monotonic_nanos - start_monotonic_nanos_);
  if (attributes.size() > limits.max_attributes_per_event) {
    event.dropped_attributes =
        static_cast<uint32_t>(attributes.size() - limits.max_attributes_per_event);
    attributes.resize(limits.max_attributes_per_event);
  }
  internal::MakeValidAttributes(&attributes, limits.max_string_length);
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
  internal::MakeValidAttributes(&attributes, limits.max_string_length);
  link.attributes = std::move(attributes);
  data_->links.push_back(std::move(link));
}

void Span::SetStatus(StatusCode code, absl::string_view description) noexcept {
  if (data_ == nullptr || code == StatusCode::kUnset || data_->status == StatusCode::kOk) return;
  data_->status = code;
  if (code == StatusCode::kError) {
    data_->status_description = ValidUtf8Copy(description, tracer_->limits().max_string_length);
  } else {
    data_->status_description.clear();
  }
}

void Span::RecordError(absl::string_view type, absl::string_view message) noexcept {
  if (data_ == nullptr) return;
  const size_t max = tracer_->limits().max_string_length;
  std::vector<Attribute> attributes;
  attributes.push_back(Attribute{"exception.type", ValidUtf8Copy(type, max)});
  attributes.push_back(Attribute{"exception.message", ValidUtf8Copy(message, max)});
  AddEvent("exception", std::move(attributes));
  SetStatus(StatusCode::kError, message);
}

void Span::UpdateName(absl::string_view name) noexcept {
  if (data_ != nullptr) AssignValidUtf8(name, tracer_->limits().max_string_length, &data_->name);
}

void Span::End() noexcept {
  if (data_ == nullptr) return;
  End(MonotonicNanosNow());
}

void Span::End(int64_t end_monotonic_nanos) noexcept {
  if (data_ == nullptr) return;
  data_->end_unix_nanos =
      data_->start_unix_nanos + std::max<int64_t>(end_monotonic_nanos - start_monotonic_nanos_, 0);
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
