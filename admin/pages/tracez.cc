#include "tracebridge/admin/pages/tracez.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tracebridge/admin/pages/html.h"
#include "tracebridge/core/util/json_writer.h"

namespace tracebridge {
namespace {

int64_t Duration(const SpanData& span) { return std::max<int64_t>(0, span.DurationNanos()); }

bool Passes(const SpanData& span, const TracezFilter& filter) {
  if (!filter.name.empty() && span.name != filter.name) return false;
  if (!filter.kind.empty() && SpanKindName(span.kind) != filter.kind) return false;
  if (filter.errors_only && span.status != StatusCode::kError) return false;
  const int64_t duration = Duration(span);
  if (duration < filter.min_ns) return false;
  if (filter.max_ns > 0 && duration >= filter.max_ns) return false;
  return true;
}

int BucketOf(int64_t duration_ns) {
  int bucket = 0;
  while (bucket + 1 < kTracezBuckets && duration_ns >= kTracezBucketFloorsNs[bucket + 1]) {
    ++bucket;
  }
  return bucket;
}

// One trace as this service saw it.
struct TraceSummary {
  const SpanData* root = nullptr;
  size_t spans = 0;
  bool error = false;
  bool listed = false;  // a span passed the filter
  uint64_t newest = 0;  // sequence of its newest span: the list's order
};

}  // namespace

TracezFilter TracezFilterFromQuery(absl::string_view name, absl::string_view kind,
                                   absl::string_view errors, absl::string_view min_ms,
                                   absl::string_view min_ns, absl::string_view max_ns) {
  TracezFilter filter;
  filter.name = DecodeQueryValue(name);
  filter.kind = DecodeQueryValue(kind);
  filter.errors_only = errors == "1" || errors == "on" || errors == "true";
  double millis = 0;
  if (absl::SimpleAtod(DecodeQueryValue(min_ms), &millis) && millis > 0 && millis < 1e9) {
    filter.min_ns = static_cast<int64_t>(std::llround(millis * 1e6));
  }
  int64_t nanos = 0;
  if (absl::SimpleAtoi(min_ns, &nanos) && nanos > 0) filter.min_ns = nanos;
  if (absl::SimpleAtoi(max_ns, &nanos) && nanos > 0) filter.max_ns = nanos;
  return filter;
}

std::string TracezJson(const std::vector<StoredSpan>& spans, const TracezFilter& filter,
                       absl::string_view service, size_t max_traces) {
  // Span ids per trace, to tell a local root from a child.
  absl::flat_hash_map<TraceId, absl::flat_hash_set<SpanId>> ids;
  for (const StoredSpan& stored : spans) {
    ids[stored.span->context.trace_id()].insert(stored.span->context.span_id());
  }
  absl::flat_hash_map<TraceId, TraceSummary> traces;
  // (name, kind) -> counts per bucket, then errors.
  std::map<std::pair<std::string, std::string>, std::array<uint64_t, kTracezBuckets + 1>> buckets;
  for (const StoredSpan& stored : spans) {
    const SpanData& span = *stored.span;
    TraceSummary& trace = traces[span.context.trace_id()];
    ++trace.spans;
    trace.newest = std::max(trace.newest, stored.sequence);
    if (span.status == StatusCode::kError) trace.error = true;
    if (Passes(span, filter)) trace.listed = true;
    const auto& trace_ids = ids[span.context.trace_id()];
    const bool local_root =
        !span.parent_span_id.IsValid() || trace_ids.count(span.parent_span_id) == 0;
    if (local_root &&
        (trace.root == nullptr || span.start_unix_nanos < trace.root->start_unix_nanos)) {
      trace.root = &span;
    }
    auto& counts = buckets[{span.name, std::string(SpanKindName(span.kind))}];
    ++counts[BucketOf(Duration(span))];
    if (span.status == StatusCode::kError) ++counts[kTracezBuckets];
  }
  std::vector<std::pair<TraceId, const TraceSummary*>> listed;
  size_t matching = 0;
  for (const auto& entry : traces) {
    if (!entry.second.listed || entry.second.root == nullptr) continue;
    ++matching;
    listed.emplace_back(entry.first, &entry.second);
  }
  std::sort(listed.begin(), listed.end(),
            [](const auto& a, const auto& b) { return a.second->newest > b.second->newest; });
  if (listed.size() > max_traces) listed.resize(max_traces);

  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("service").String(service);
  json.Key("spans_scanned").Uint(spans.size());
  json.Key("filter").BeginObject();
  json.Key("name").String(filter.name);
  json.Key("kind").String(filter.kind);
  json.Key("errors_only").Bool(filter.errors_only);
  json.Key("min_ns").Int(filter.min_ns);
  json.Key("max_ns").Int(filter.max_ns);
  json.EndObject();
  json.Key("bucket_floors_ns").BeginArray();
  for (int64_t floor : kTracezBucketFloorsNs) json.Int(floor);
  json.EndArray();
  json.Key("names").BeginArray();
  for (const auto& entry : buckets) {
    json.BeginObject();
    json.Key("name").String(entry.first.first);
    json.Key("kind").String(entry.first.second);
    json.Key("counts").BeginArray();
    for (int i = 0; i < kTracezBuckets; ++i) json.Uint(entry.second[i]);
    json.EndArray();
    json.Key("errors").Uint(entry.second[kTracezBuckets]);
    json.EndObject();
  }
  json.EndArray();
  json.Key("matching_traces").Uint(matching);
  json.Key("traces").BeginArray();
  for (const auto& entry : listed) {
    const TraceSummary& trace = *entry.second;
    json.BeginObject();
    json.Key("trace_id").String(entry.first.ToHex());
    json.Key("root").String(trace.root->name);
    json.Key("kind").String(SpanKindName(trace.root->kind));
    json.Key("start_unix_ms").Int(trace.root->start_unix_nanos / 1'000'000);
    json.Key("duration_ns").Int(Duration(*trace.root));
    json.Key("spans").Uint(trace.spans);
    json.Key("error").Bool(trace.error);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return out;
}

}  // namespace tracebridge
