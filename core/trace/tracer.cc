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
  const bool sampled =
      options_.sampler->ShouldSample(SamplingParams{*parent, trace_id, name, options.kind});
  // A new trace's id is fully random, which level 2 flags with the random bit.
  TraceFlags flags = has_parent ? parent->trace_flags() : TraceFlags(TraceFlags::kRandom);
  flags = flags.WithSampled(sampled);
  Span span(SpanContext(trace_id, SpanId::Generate(), flags, /*is_remote=*/false,
                        has_parent ? parent->trace_state() : TraceState()),
            nullptr, 0, this);
  if (has_parent && parent->IsDebug()) span.context_ = span.context_.WithDebug(true);
  if (!sampled) return span;

  // Default-initialised, not value-initialised: the inline attribute storage
  // need not be zeroed first.
  std::unique_ptr<SpanData> data(new SpanData);
  const SpanLimits& limits = options_.limits;
  data->name = ValidUtf8Copy(name, limits.max_string_length);
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
  started_.Add();
  span.start_monotonic_nanos_ = MonotonicNanosNow();
  data->start_unix_nanos = UnixNanosAt(span.start_monotonic_nanos_);
  span.data_ = std::move(data);
  return span;
}

void TracerCore::OnEnd(std::unique_ptr<SpanData> data) noexcept {
  ended_.Add();
  if (options_.processor != nullptr) options_.processor->OnEnd(std::move(data));
}

TracerStats TracerCore::Stats() const noexcept {
  TracerStats stats;
  stats.spans_started = started_.Value();
  stats.spans_ended = ended_.Value();
  return stats;
}

}  // namespace internal

Span Tracer::StartServerSpan(absl::string_view name, const PropagatedContext& incoming,
                             bool trusted) noexcept {
  StartSpanOptions options;
  options.kind = SpanKind::kServer;
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
