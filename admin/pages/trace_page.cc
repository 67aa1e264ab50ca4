#include "tracebridge/admin/pages/trace_page.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <system_error>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/admin/query_service.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/util/json_writer.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

namespace pb = ::tracebridge::v1;

// What one source answered.
struct Fetched {
  std::vector<pb::Span> spans;
  TraceSource source;
};

void SetState(const grpc::Status& status, bool some_spans, TraceSource* source) {
  source->detail = absl::StrCat("gRPC ", status.error_code(), ": ", status.error_message());
  if (some_spans) {
    source->state = "partial";
    return;
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      source->state = "unreachable";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      source->state = "timed out";
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      source->state = "refused";
      break;
    default:
      source->state = "error";
  }
}

void AppendAttributes(const google::protobuf::RepeatedPtrField<pb::Attribute>& attributes,
                      JsonWriter& json) {
  json.BeginArray();
  for (const pb::Attribute& attribute : attributes) {
    json.BeginArray().String(attribute.key());
    switch (attribute.value_case()) {
      case pb::Attribute::kStringValue:
        json.String("string").String(attribute.string_value());
        break;
      case pb::Attribute::kIntValue:
        json.String("int").String(absl::StrCat(attribute.int_value()));
        break;
      case pb::Attribute::kDoubleValue:
        json.String("double").String(absl::StrCat(attribute.double_value()));
        break;
      case pb::Attribute::kBoolValue:
        json.String("bool").String(attribute.bool_value() ? "true" : "false");
        break;
      default:
        json.String("none").String("");
    }
    json.EndArray();
  }
  json.EndArray();
}

}  // namespace

absl::StatusOr<std::vector<AdminPeer>> ParseAdminPeers(absl::string_view text) {
  std::vector<AdminPeer> peers;
  if (absl::StripAsciiWhitespace(text).empty()) return peers;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    AdminPeer peer;
    const size_t equals = entry.find('=');
    if (equals != absl::string_view::npos) {
      peer.name = std::string(absl::StripAsciiWhitespace(entry.substr(0, equals)));
      entry = absl::StripAsciiWhitespace(entry.substr(equals + 1));
    }
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("peers: an entry has no address in \"", text, "\""));
    }
    peer.address = std::string(entry);
    peers.push_back(std::move(peer));
  }
  return peers;
}

struct TraceAssembler::Peer {
  AdminPeer config;
  std::unique_ptr<pb::Query::Stub> stub;
};

TraceAssembler::TraceAssembler(Telemetry& telemetry, std::vector<AdminPeer> peers,
                               TraceAssemblerOptions options)
    : telemetry_(telemetry), options_(std::move(options)) {
  for (AdminPeer& config : peers) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(
        static_cast<int>(std::min<size_t>(options_.peer_max_response_bytes, INT32_MAX)));
    auto peer = std::make_unique<Peer>();
    peer->stub = pb::Query::NewStub(
        grpc::CreateCustomChannel(config.address, grpc::InsecureChannelCredentials(), arguments));
    peer->config = std::move(config);
    peers_.push_back(std::move(peer));
  }
}

TraceAssembler::~TraceAssembler() = default;

AssembledTrace TraceAssembler::Assemble(const TraceId& trace_id) const {
  AssembledTrace trace;
  trace.trace_id = trace_id;
  const size_t max_spans = std::max<size_t>(1, options_.max_spans);

  // This process: its span store, page by page.
  Fetched local;
  local.source.service = telemetry_.resource().service_name;
  if (InMemorySpanExporter* store = telemetry_.span_store(); store != nullptr) {
    SpanQuery query;
    query.trace_id = trace_id;
    query.limit = SpanQuery::kMaxLimit;
    for (;;) {
      SpanQueryResult page = store->Query(query);
      for (const StoredSpan& stored : page.spans) {
        if (local.spans.size() == max_spans) break;
        SpanToProto(*stored.span, stored.resource.get(), &local.spans.emplace_back());
      }
      if (page.next_cursor == 0 || local.spans.size() == max_spans) {
        if (page.next_cursor != 0) local.source.detail = "span bound reached";
        break;
      }
      query.cursor = page.next_cursor;
    }
    local.source.state = local.spans.empty() ? "no spans" : "ok";
  } else {
    local.source.state = "error";
    local.source.detail = "the span store is disabled";
  }

  // The peers, at most `peer_concurrency` at a time; each worker writes only
  // the results of the peers it took.
  std::vector<Fetched> remote(peers_.size());
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next.fetch_add(1); i < peers_.size(); i = next.fetch_add(1)) {
      const Peer& peer = *peers_[i];
      Fetched& fetched = remote[i];
      fetched.source.address = peer.config.address;
      const auto deadline =
          std::chrono::system_clock::now() + absl::ToChronoNanoseconds(options_.peer_deadline);
      size_t received_bytes = 0;
      pb::ListSpansRequest request;
      request.set_trace_id(trace_id.ToHex());
      request.set_page_size(QueryService::kMaxPageSize);
      for (;;) {
        grpc::ClientContext context;
        context.set_deadline(deadline);
        if (!peer.config.bearer_token.empty()) {
          context.AddMetadata("authorization", "Bearer " + peer.config.bearer_token);
        }
        pb::ListSpansResponse response;
        grpc::Status status = peer.stub->ListSpans(&context, request, &response);
        if (!status.ok()) {
          SetState(status, !fetched.spans.empty(), &fetched.source);
          break;
        }
        received_bytes += response.ByteSizeLong();
        for (pb::Span& span : *response.mutable_spans()) {
          if (fetched.spans.size() == max_spans) break;
          if (span.trace_id() != request.trace_id()) continue;  // a confused peer
          fetched.spans.push_back(std::move(span));
        }
        const bool more = !response.next_page_token().empty();
        if (more && (fetched.spans.size() == max_spans ||
                     received_bytes >= options_.peer_max_total_bytes)) {
          fetched.source.state = "partial";
          fetched.source.detail = "span or byte bound reached";
          break;
        }
        if (response.next_page_token().empty()) {
          fetched.source.state = fetched.spans.empty() ? "no spans" : "ok";
          break;
        }
        request.set_page_token(response.next_page_token());
      }
      fetched.source.service = peer.config.name;
      if (fetched.source.service.empty() && !fetched.spans.empty()) {
        fetched.source.service = fetched.spans.front().service_name();
      }
      if (fetched.source.service.empty()) fetched.source.service = peer.config.address;
    }
  };
  const size_t workers =
      std::min(peers_.size(), static_cast<size_t>(std::max(1, options_.peer_concurrency)));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no thread to be had: fewer workers take every peer
    }
  }
  if (workers > 0) work();
  for (std::thread& thread : threads) thread.join();

  // Together, bounded: the earliest spans are kept.
  trace.sources.push_back(std::move(local.source));
  trace.sources.back().spans = local.spans.size();
  trace.spans = std::move(local.spans);
  for (Fetched& fetched : remote) {
    fetched.source.spans = fetched.spans.size();
    trace.sources.push_back(std::move(fetched.source));
    for (pb::Span& span : fetched.spans) trace.spans.push_back(std::move(span));
  }
  if (trace.spans.size() > max_spans) {
    std::stable_sort(trace.spans.begin(), trace.spans.end(),
                     [](const pb::Span& a, const pb::Span& b) {
                       return a.start_unix_nanos() < b.start_unix_nanos();
                     });
    trace.spans_left_out = trace.spans.size() - max_spans;
    trace.spans.resize(max_spans);
  }
  return trace;
}

std::vector<TraceRow> LayOutTrace(const std::vector<pb::Span>& spans, size_t* duplicates) {
  // The first of each span id; later ones are repeats.
  absl::flat_hash_map<absl::string_view, size_t> by_id;
  std::vector<size_t> kept;
  size_t repeated = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (by_id.emplace(spans[i].span_id(), i).second) {
      kept.push_back(i);
    } else {
      ++repeated;
    }
  }
  if (duplicates != nullptr) *duplicates = repeated;
  auto earlier = [&spans](size_t a, size_t b) {
    if (spans[a].start_unix_nanos() != spans[b].start_unix_nanos()) {
      return spans[a].start_unix_nanos() < spans[b].start_unix_nanos();
    }
    return a < b;
  };
  absl::flat_hash_map<size_t, std::vector<size_t>> children;
  std::vector<size_t> roots;
  for (size_t i : kept) {
    const std::string& parent = spans[i].parent_span_id();
    auto it = parent.empty() || parent == spans[i].span_id() ? by_id.end() : by_id.find(parent);
    if (it == by_id.end()) {
      roots.push_back(i);
    } else {
      children[it->second].push_back(i);
    }
  }
  for (auto& entry : children) std::sort(entry.second.begin(), entry.second.end(), earlier);
  std::sort(roots.begin(), roots.end(), earlier);

  std::vector<TraceRow> rows;
  rows.reserve(kept.size());
  std::vector<bool> placed(spans.size(), false);
  auto place = [&](size_t root) {
    // Depth first without recursion: (span, depth), children pushed in
    // reverse so the earliest comes out first.
    std::vector<std::pair<size_t, int>> stack = {{root, 0}};
    while (!stack.empty()) {
      const auto [span, depth] = stack.back();
      stack.pop_back();
      if (placed[span]) continue;
      placed[span] = true;
      TraceRow row;
      row.span = span;
      row.depth = depth;
      row.missing_parent = depth == 0 && !spans[span].parent_span_id().empty();
      rows.push_back(row);
      auto it = children.find(span);
      if (it == children.end()) continue;
      for (auto child = it->second.rbegin(); child != it->second.rend(); ++child) {
        if (!placed[*child]) stack.emplace_back(*child, depth + 1);
      }
    }
  };
  for (size_t root : roots) place(root);
  // Whatever is left hangs off a parent cycle: break it at its earliest span.
  std::vector<size_t> left;
  for (size_t i : kept) {
    if (!placed[i]) left.push_back(i);
  }
  std::sort(left.begin(), left.end(), earlier);
  for (size_t i : left) place(i);
  return rows;
}

std::string TraceViewJson(const AssembledTrace& trace, absl::string_view service) {
  size_t duplicates = 0;
  const std::vector<TraceRow> rows = LayOutTrace(trace.spans, &duplicates);
  uint64_t epoch = 0;
  uint64_t end = 0;
  for (const TraceRow& row : rows) {
    const pb::Span& span = trace.spans[row.span];
    if (epoch == 0 || span.start_unix_nanos() < epoch) epoch = span.start_unix_nanos();
    end = std::max<uint64_t>(end, span.start_unix_nanos() + span.duration_nanos());
  }
  auto relative = [epoch](uint64_t unix_nanos) { return static_cast<int64_t>(unix_nanos - epoch); };
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("trace_id").String(trace.trace_id.ToHex());
  json.Key("service").String(service);
  json.Key("start_unix_nanos").String(absl::StrCat(epoch));
  json.Key("duration_ns").Int(rows.empty() ? 0 : relative(end));
  json.Key("spans_left_out").Uint(trace.spans_left_out);
  json.Key("duplicates").Uint(duplicates);
  json.Key("sources").BeginArray();
  for (const TraceSource& source : trace.sources) {
    json.BeginObject();
    json.Key("service").String(source.service);
    json.Key("address").String(source.address);
    json.Key("state").String(source.state);
    json.Key("detail").String(source.detail);
    json.Key("spans").Uint(source.spans);
    json.EndObject();
  }
  json.EndArray();
  json.Key("rows").BeginArray();
  for (const TraceRow& row : rows) {
    const pb::Span& span = trace.spans[row.span];
    json.BeginObject();
    json.Key("id").String(span.span_id());
    json.Key("parent").String(span.parent_span_id());
    json.Key("depth").Int(row.depth);
    json.Key("missing_parent").Bool(row.missing_parent);
    json.Key("name").String(span.name());
    json.Key("kind").String(span.kind());
    json.Key("service").String(span.service_name());
    json.Key("start_ns").Int(relative(span.start_unix_nanos()));
    json.Key("duration_ns").Uint(span.duration_nanos());
    json.Key("status").String(span.status());
    json.Key("status_description").String(span.status_description());
    json.Key("attributes");
    AppendAttributes(span.attributes(), json);
    json.Key("events").BeginArray();
    for (const pb::SpanEvent& event : span.events()) {
      json.BeginObject();
      json.Key("name").String(event.name());
      json.Key("time_ns").Int(relative(event.time_unix_nanos()));
      json.Key("attributes");
      AppendAttributes(event.attributes(), json);
      json.EndObject();
    }
    json.EndArray();
    json.Key("links").BeginArray();
    for (const pb::SpanLink& link : span.links()) {
      json.BeginObject();
      json.Key("trace_id").String(link.trace_id());
      json.Key("span_id").String(link.span_id());
      json.Key("attributes");
      AppendAttributes(link.attributes(), json);
      json.EndObject();
    }
    json.EndArray();
    json.Key("dropped_attributes").Uint(span.dropped_attributes());
    json.Key("dropped_events").Uint(span.dropped_events());
    json.Key("dropped_links").Uint(span.dropped_links());
    json.Key("truncated").Bool(span.truncated());
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return out;
}

}  // namespace tracebridge
