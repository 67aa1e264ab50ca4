#include "tracebridge/admin/pages/rpcz.h"

#include <array>
#include <cstdint>

#include "tracebridge/admin/query_service.h"
#include "tracebridge/core/metrics/histogram.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/trace/hex.h"
#include "tracebridge/core/util/json_writer.h"

namespace tracebridge {
namespace {

std::string Hex(const uint8_t* bytes, size_t n) {
  std::string text(2 * n, '0');
  hex::Encode(bytes, n, &text[0]);
  return text;
}

void AppendHistogram(const SeriesSnapshot& series, JsonWriter& json) {
  const std::array<uint64_t, kClassicLatencyNumBuckets> counts =
      ClassicLatencyCounts(series.latency, series.latency_overflow);
  int first = -1;
  int last = -1;
  for (int i = 0; i < kClassicLatencyNumBuckets; ++i) {
    if (counts[i] == 0) continue;
    if (first < 0) first = i;
    last = i;
  }
  json.BeginArray();
  for (int i = first; first >= 0 && i <= last; ++i) {
    json.BeginObject();
    json.Key("le");
    if (i < kClassicLatencyNumBounds) {
      json.Double(ClassicLatencyBoundSeconds(i));
    } else {
      json.Null();  // +Inf
    }
    json.Key("count").Uint(counts[i]);
    for (const BucketExemplar& exemplar : series.exemplars) {
      if (exemplar.bucket != i) continue;
      json.Key("exemplar").BeginObject();
      json.Key("trace_id").String(Hex(exemplar.call.trace_id, sizeof(exemplar.call.trace_id)));
      json.Key("span_id").String(Hex(exemplar.call.span_id, sizeof(exemplar.call.span_id)));
      json.Key("value_ns").Uint(exemplar.value_ns);
      json.EndObject();
      break;
    }
    json.EndObject();
  }
  json.EndArray();
}

}  // namespace

std::string RpczJson(const MetricsSnapshot& snapshot, absl::string_view service,
                     const std::vector<InFlightStream>& streams) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("service").String(service);
  json.Key("uptime_seconds").Double(snapshot.uptime_seconds);
  json.Key("series").BeginArray();
  for (const SeriesSnapshot& series : snapshot.series) {
    if (series.is_other && series.started == 0 && series.Handled() == 0) continue;
    json.BeginObject();
    json.Key("protocol").String(series.protocol == Protocol::kGrpc ? "grpc" : "http");
    json.Key("side").String(series.side == Side::kServer ? "server" : "client");
    json.Key("name").String(SeriesDisplayName(series));
    json.Key("other").Bool(series.is_other);
    json.Key("count").Uint(series.Handled());
    json.Key("errors").Uint(series.Errors());
    json.Key("in_flight").Uint(series.InFlight());
    json.Key("oldest_stream_age");
    const InFlightStream* oldest = nullptr;
    for (const InFlightStream& stream : streams) {
      if (series.protocol == Protocol::kGrpc && stream.side == series.side &&
          stream.method == SeriesDisplayName(series)) {
        oldest = &stream;
        break;
      }
    }
    if (oldest != nullptr) {
      json.Double(static_cast<double>(oldest->age_nanos) / 1e9);
    } else {
      json.Null();
    }
    json.Key("p50").Double(series.PercentileSeconds(0.5));
    json.Key("p90").Double(series.PercentileSeconds(0.9));
    json.Key("p99").Double(series.PercentileSeconds(0.99));
    json.Key("max").Double(series.MaxSeconds());
    json.Key("statuses").BeginArray();
    for (const StatusCount& status : series.statuses) {
      json.BeginObject();
      json.Key("code").Int(status.code);
      json.Key("label").String(status.label);
      // What a person reads: gRPC's code name ("NOT_FOUND"), else the label.
      const absl::string_view name =
          series.protocol == Protocol::kGrpc ? GrpcStatusName(status.code) : absl::string_view();
      json.Key("name").String(name.empty() ? status.label : name);
      json.Key("count").Uint(status.count);
      json.Key("error").Bool(status.error);
      json.EndObject();
    }
    json.EndArray();
    json.Key("buckets");
    AppendHistogram(series, json);
    json.EndObject();
  }
  json.EndArray();
  json.Key("streams").BeginArray();
  for (size_t i = 0; i < streams.size() && i < kRpczMaxStreams; ++i) {
    const InFlightStream& stream = streams[i];
    json.BeginObject();
    json.Key("side").String(stream.side == Side::kServer ? "server" : "client");
    json.Key("method").String(stream.method);
    json.Key("age").Double(static_cast<double>(stream.age_nanos) / 1e9);
    json.Key("messages_sent").Uint(stream.messages_sent);
    json.Key("messages_received").Uint(stream.messages_received);
    json.Key("progress_events").Uint(stream.progress_events);
    json.Key("trace_id");
    if (stream.span_context.IsSampled()) {
      json.String(stream.span_context.trace_id().ToHex());
    } else {
      json.Null();
    }
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return out;
}

}  // namespace tracebridge
