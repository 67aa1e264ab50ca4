#include "tracebridge/core/trace/tracer.h"

#include <utility>

#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace internal {

TracerCore::TracerCore(TracerOptions options) : options_(std::move(options)) {
  if (!options_.sampler) options_.sampler = AlwaysOnSampler();
}

Span TracerCore::Start(absl::string_view name, const StartSpanOptions& options) noexcept {
  const SpanContext* parent = nullptr;
  switch (options.parent_choice) {
    case ParentChoice::kCurrent:
      parent = &CurrentSpan().context();
      break;
    case ParentChoice::kExplicit:
      parent = &options.parent;
      break;
    case ParentChoice::kRoot:
      break;
  }
  static const SpanContext kNoParent;
  if (parent == nullptr || !parent->IsValid()) parent = &kNoParent;

  const bool has_parent = parent->IsValid();
  const TraceId trace_id = has_parent ? parent->trace_id() : TraceId::Generate();
  const SamplingResult result = options_.sampler->Sample(
      SamplingParams{*parent, trace_id, name, options.kind, options.target});
  const bool sampled = result.decision == SamplingDecision::kRecordAndSample;
  // A new trace's id is fully random, which level 2 flags with the random bit.
  TraceFlags flags = has_parent ? parent->trace_flags() : TraceFlags(TraceFlags::kRandom);
  flags = flags.WithSampled(sampled);
  Span span(SpanContext(trace_id, SpanId::Generate(), flags, /*is_remote=*/false,
                        has_parent ? parent->trace_state() : TraceState()),
            nullptr, 0, this);
  if (has_parent && parent->IsDebug()) span.context_ = span.context_.WithDebug(true);
  if (result.decision == SamplingDecision::kDrop) return span;

  // A recycled record where there is one (span_data.h): its buffers take
  // the name and attributes; its name is the previous span's.
  std::unique_ptr<SpanData> data = NewSpanData(options.kind);
  const SpanLimits& limits = options_.limits;
  if (!SameText(data->name, name)) AssignValidUtf8(name, limits.max_string_length, &data->name);
  data->kind = options.kind;
  data->context = span.context_;
  if (has_parent) {
    data->parent_span_id = parent->span_id();
    data->parent_is_remote = parent->IsRemote();
  }
  for (const SpanLink& link : options.links) {
    if (!link.context.IsValid()) continue;
    if (data->links.size() >= limits.max_links) {
      ++data->dropped_links;
      continue;
    }
    data->links.push_back(link);
    MakeValidAttributes(&data->links.back().attributes, limits.max_string_length);
  }
  if (sampled) {
    started_.Add();
  } else {
    record_only_started_.Add();
    span.at_end_ = result.at_end;
  }
  span.start_monotonic_nanos_ = MonotonicNanosNow();
  data->start_unix_nanos = UnixNanosAt(span.start_monotonic_nanos_);
  span.data_ = std::move(data);
  return span;
}

void TracerCore::OnEnd(std::unique_ptr<SpanData> data, SpanEndDecider* at_end) noexcept {
  if (data->context.IsSampled()) {
    ended_.Add();
  } else {
    // Record-only: exported only when its sampler's end rule says so.
    if (at_end == nullptr || !at_end->ExportAtEnd(*data)) {
      record_only_discarded_.Add();
      RecycleSpanData(std::move(data));
      return;
    }
    record_only_exported_.Add();
    if (data->attributes.size() < options_.limits.max_attributes) {
      data->attributes.push_back(Attribute{std::string(kSampledAtEndAttribute), true});
    } else {
      ++data->dropped_attributes;
    }
  }
  if (options_.processor != nullptr) {
    options_.processor->OnEnd(std::move(data));
  } else {
    RecycleSpanData(std::move(data));
  }
}

TracerStats TracerCore::Stats() const noexcept {
  TracerStats stats;
  stats.spans_started = started_.Value();
  stats.spans_ended = ended_.Value();
  stats.record_only_started = record_only_started_.Value();
  stats.record_only_exported = record_only_exported_.Value();
  stats.record_only_discarded = record_only_discarded_.Value();
  return stats;
}

}  // namespace internal

Span Tracer::StartServerSpan(absl::string_view name, const PropagatedContext& incoming,
                             bool trusted, const SpanTarget& target) noexcept {
  StartSpanOptions options;
  options.kind = SpanKind::kServer;
  options.target = target;
  options.parent_choice = ParentChoice::kExplicit;
  if (trusted) {
    options.parent = incoming.span_context;
    return StartSpan(name, options);
  }
  // Untrusted: a fresh trace, with the caller's context kept as a link so
  // the two traces can still be joined by someone who trusts both.
  SpanLink link;
  if (incoming.span_context.IsValid()) {
    link.context = incoming.span_context;
    link.attributes.push_back(
        Attribute{"tracebridge.link.reason", std::string("untrusted_caller")});
    options.links = absl::Span<const SpanLink>(&link, 1);
  }
  return StartSpan(name, options);
}

}  // namespace tracebridge
