// File: tracebridge/admin/pages/trace_page.h
//
// One trace assembled across services, for the `/traces/:trace_id` page:
// this process's spans from its span store, and the same trace id asked of
// each configured peer's `tracebridge.v1.Query/ListSpans` (proto/tracebridge/
// v1/query.proto), then laid out as a tree for the waterfall.
//
// Bounds: a peer gets `peer_deadline` for all of its pages together; at most
// `peer_concurrency` peers are asked at once (so a page takes at most
// ceil(peers / concurrency) deadlines); a peer's answer may be at most
// `peer_max_response_bytes`, and its answers to one trace together
// `peer_max_total_bytes`; at most `max_spans` spans are kept per source and
// overall (the earliest by start time; the rest are counted). Spans a peer
// sends of another trace are left out.
//
// A peer that does not answer, refuses, or has no span of the trace is a
// source with that state (shown on the page as "orders: unreachable"), never
// an error of the page. Spans whose parent is in no source's answer are laid
// out as roots marked `missing_parent`; a span repeated by several sources is
// kept once; parent cycles (from a confused or hostile peer) are broken.
//
// Threading: a `TraceAssembler` is immutable after construction and may be
// used by many threads; `Assemble` blocks its caller for the peers' answers.
//
// Example:
//
//   TraceAssembler assembler(*telemetry, {{"orders", "127.0.0.1:9091"}}, {});
//   AssembledTrace trace = assembler.Assemble(trace_id);
//   std::string json = TraceViewJson(trace, telemetry->resource().service_name);

#ifndef TRACEBRIDGE_ADMIN_PAGES_TRACE_PAGE_H_
#define TRACEBRIDGE_ADMIN_PAGES_TRACE_PAGE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/v1/query.pb.h"

namespace tracebridge {

// Another service's admin listener, whose tracebridge.v1.Query the trace
// page asks for the rest of a trace.
struct AdminPeer {
  // How the page names it while it has no answer ("orders"); empty: its
  // spans' service name, else the address.
  std::string name;
  // gRPC address of its admin listener ("127.0.0.1:9091").
  std::string address;
  // Sent as `authorization: Bearer <token>` when not empty.
  std::string bearer_token;
};

// Peers from a list such as "orders=127.0.0.1:9091,127.0.0.1:9092" (a name
// and `=` are optional). InvalidArgument for an empty entry or address.
absl::StatusOr<std::vector<AdminPeer>> ParseAdminPeers(absl::string_view text);

struct TraceAssemblerOptions {
  // Time a peer has for all its pages of one trace.
  absl::Duration peer_deadline = absl::Seconds(2);
  // Peers asked at the same time (at least 1).
  int peer_concurrency = 4;
  // Largest ListSpans response accepted from a peer.
  size_t peer_max_response_bytes = size_t{4} << 20;
  // A peer's responses to one trace together: no more pages are asked once
  // they reach this.
  size_t peer_max_total_bytes = size_t{16} << 20;
  // Spans kept per source and in the whole trace.
  size_t max_spans = 5000;
};

// Where a part of the trace came from, and how that went.
struct TraceSource {
  // The service (this process's, a peer's name or its spans' service).
  std::string service;
  // The peer's address; empty for this process.
  std::string address;
  // "ok", "partial" (deadline or bound reached after some spans), "no spans",
  // "unreachable", "timed out", "refused" (token or policy) or "error".
  std::string state;
  // The gRPC status or bound behind a state other than "ok".
  std::string detail;
  size_t spans = 0;
};

struct AssembledTrace {
  TraceId trace_id;
  // Every source's spans, this process's first.
  std::vector<v1::Span> spans;
  // This process, then the peers in their configured order.
  std::vector<TraceSource> sources;
  // Spans left out by `max_spans`.
  size_t spans_left_out = 0;
};

class TraceAssembler {
 public:
  // `telemetry` must outlive the assembler. Channels to the peers are made
  // here and connect on first use.
  TraceAssembler(Telemetry& telemetry, std::vector<AdminPeer> peers, TraceAssemblerOptions options);
  ~TraceAssembler();
  TraceAssembler(const TraceAssembler&) = delete;
  TraceAssembler& operator=(const TraceAssembler&) = delete;

  AssembledTrace Assemble(const TraceId& trace_id) const;

 private:
  struct Peer;
  Telemetry& telemetry_;
  const TraceAssemblerOptions options_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

// One row of the waterfall.
struct TraceRow {
  // Index into the spans laid out.
  size_t span = 0;
  // 0 for a root.
  int depth = 0;
  // The span names a parent that none of the spans is.
  bool missing_parent = false;
};

// The spans as a tree in display order: roots by start time, each followed
// by its children (by start time), depth first. A span id seen again is left
// out (counted in `*duplicates` when not null); spans only reachable through
// a parent cycle become roots marked `missing_parent`. Iterative: a chain of
// any depth lays out without recursion.
std::vector<TraceRow> LayOutTrace(const std::vector<v1::Span>& spans, size_t* duplicates = nullptr);

// The trace page's data (a JSON document, see assets/trace.js): the sources,
// and the rows with each span's fields; times in nanoseconds from the
// earliest start (the absolute start is a decimal string, beyond the
// integers JavaScript holds exactly).
std::string TraceViewJson(const AssembledTrace& trace, absl::string_view service);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_TRACE_PAGE_H_
