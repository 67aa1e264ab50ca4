// File: tracebridge/core/metrics/registry.h
//
// The metrics registry: one series per gRPC method or HTTP route and side,
// created at registration, looked up once and kept by pointer by whoever
// records, plus read-side snapshots for the Prometheus and JSON encoders.
//
// A series (`Series`) counts calls started, calls handled per status code,
// messages and bytes, and keeps a latency histogram: base-2 exponential
// buckets at scale 5 from 2^-20 s to 256 s (core/metrics/histogram.h), with
// its sum, minimum and maximum. In-flight is derived as started − handled,
// so a full call costs four atomic read-modify-writes (started; status;
// bucket; sum) plus relaxed loads of the minimum and maximum, which are only
// written when a new extreme is seen.
//
// Exemplars: a call that ends with `Finish(…, &exemplar)` (a sampled call:
// the doors pass its trace and span id) also becomes the exemplar of its
// classic bucket (core/metrics/histogram.h) when that bucket's exemplar is
// empty or at least 100 ms older (by the calls' end times; or 100 ms newer,
// after the wall clock was stepped back), so a busy bucket shows a recent
// call and its slot is written about ten times a second at most.
// Each of a series' 30 exemplar slots is a seqlock: a writer claims it with
// one compare-and-swap and skips it if another call is writing it, so
// recording an exemplar never waits and never allocates; a snapshot retries
// a slot it saw mid-write a few times, then leaves it out.
//
// Recording is wait-free: relaxed atomics on a per-thread shard of the series
// (threads are dealt shards round-robin on first use), no lock, no
// allocation, no string work. Reads sum the shards.
//
// Message sizes: a gRPC series also keeps, per direction, a histogram of
// message sizes in 35 powers-of-two buckets (core/metrics/size_histogram.h)
// whose sum is the direction's byte counter: `RecordMessageSent` /
// `RecordMessageReceived` cost three relaxed increments (messages, bytes,
// bucket) on the thread's shard.
//
// Memory per series: `shards` × (1000 cells for gRPC, 984 for HTTP) × 8 bytes
// for the counters (each shard: 8 scalars, 898 latency slots, the status
// slots, for gRPC 70 size buckets, padded to cache lines) plus 1472 bytes of
// exemplar slots shared by the shards. At the default 4 shards that is
// 32.7 KiB per gRPC series (of which the size histograms are 2.25 KiB:
// 576 bytes per shard; 30.4 KiB without them, see
// `RegistryOptions::message_size_histograms`) and 32.2 KiB per HTTP series,
// so at most about 64 MiB at the 2000-series cap; with `shards = 1`, 9.25
// and 9.1 KiB. The latency buckets dominate: 896 buckets × 8 bytes = 7 KiB
// per shard buys ≤ 2% quantile error from 1 µs to 256 s.
//
// Cardinality: at most `RegistryOptions::max_series` registered series.
// Registrations beyond the cap, and lookups of anything never registered,
// return the overflow series `_OTHER` of their (protocol, side) — for HTTP of
// their (side, request method) — which always exist: 2 for gRPC and 20 for
// HTTP (9 known request methods and `_OTHER`, per side). Every measurement
// lands in exactly one series, so totals are conserved.
//
// Status codes: gRPC codes 0–16 each have a slot; any other code counts under
// the label "other". HTTP codes 100–103, 200–208, 226, 300–308, 400–431, 451,
// 499 and 500–511 each have a slot; any other code in 100–599 counts under
// its class ("1xx" … "5xx") and anything outside 100–599 under "other".
//
// Threading contract: `Series` recording methods may be called from any
// thread at any time. `Registry` methods are thread-safe: registration takes
// a mutex (cold path); `Find*` and `*Other` lookups are lock-free and
// allocation-free; `Snapshot()` never blocks recorders or registration (it
// only takes the collectors' mutex). Series pointers stay valid for the
// registry's lifetime.
//
// Example:
//
//   tracebridge::Registry registry;
//   tracebridge::Series* say_hello = registry.RegisterGrpcMethod(
//       tracebridge::Side::kServer, "helloworld.Greeter", "SayHello");
//   // Per call:
//   say_hello->Start();
//   ...
//   say_hello->Finish(/*status_code=*/0, absl::Milliseconds(3));
//   // At scrape time:
//   tracebridge::MetricsSnapshot snapshot = registry.Snapshot();

#ifndef TRACEBRIDGE_CORE_METRICS_REGISTRY_H_
#define TRACEBRIDGE_CORE_METRICS_REGISTRY_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracebridge/core/metrics/histogram.h"
#include "tracebridge/core/metrics/size_histogram.h"

namespace tracebridge {

// Which door a series belongs to.
enum class Protocol : uint8_t { kGrpc = 0, kHttp = 1 };

// Which end of the call recorded it.
enum class Side : uint8_t { kServer = 0, kClient = 1 };

// How a gRPC method streams, as gRPC declares it (go-grpc-prometheus'
// `grpc_type`). `kUnknown` for HTTP series, the overflow series, and gRPC
// series registered without a type.
enum class RpcType : uint8_t {
  kUnknown = 0,
  kUnary = 1,
  kClientStreaming = 2,
  kServerStreaming = 3,
  kBidiStreaming = 4,
};

// The names the encoders give the series (core/metrics/naming.h has the
// tables): `kOtel`, the OpenTelemetry semantic conventions; `kGrpcPrometheus`,
// go-grpc-prometheus' `grpc_server_*` / `grpc_client_*` families for gRPC.
// Only names and labels differ: what is recorded is the same.
enum class MetricsNaming : uint8_t { kOtel = 0, kGrpcPrometheus = 1 };

// The name of every overflow series' method, service and route.
inline constexpr absl::string_view kOtherName = "_OTHER";

// The one rule for "is this call an error", shared by every door:
//   gRPC server: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
//                UNAVAILABLE, DATA_LOSS (the OpenTelemetry semantic
//                conventions' server errors), or a code outside 0–16;
//   gRPC client: any code but OK;
//   HTTP server: 5xx; HTTP client: 4xx and 5xx; for both, a code outside
//                100–599 (not a valid response).
bool IsErrorStatus(Protocol protocol, Side side, int status_code) noexcept;

// The request method label for an HTTP method: the method itself when it is
// one of the nine RFC 9110/5789 methods (case-sensitive), else `_OTHER`.
absl::string_view CanonicalHttpMethod(absl::string_view method) noexcept;

// Splits a gRPC full method name "/pkg.Service/Method" into its service and
// method. Returns false (leaving the outputs untouched) if `full_method` is not
// of that form.
bool SplitGrpcFullMethod(absl::string_view full_method, absl::string_view* service,
                         absl::string_view* method) noexcept;

// Registry settings.
struct RegistryOptions {
  // Cap on registered series (overflow series not included).
  size_t max_series = 2000;
  // Shards per series, rounded up to a power of two in [1, 64]. More shards
  // let more threads record into one series without sharing cache lines, at
  // the memory cost given in the file comment.
  int shards = 4;
  // How the encoders name the series; carried in every snapshot.
  MetricsNaming naming = MetricsNaming::kOtel;
  // Whether gRPC series keep the per-message size histograms
  // (`rpc.{server,client}.{request,response}.size`, see
  // core/metrics/size_histogram.h). Off saves their memory (see the file
  // comment) and one increment per message; the byte counters stay.
  bool message_size_histograms = true;
};

// The sampled call a latency belongs to, kept as the exemplar of its bucket
// (OpenMetrics exposes it next to the bucket). Plain bytes, so the doors fill
// it from their span without the metrics core depending on the tracer.
struct Exemplar {
  // Trace and span id, most significant byte first (as on the wire).
  uint8_t trace_id[16];
  uint8_t span_id[8];
  // When the call ended, Unix nanoseconds.
  int64_t unix_nanos;
};

// One recorded series. Obtained from a `Registry`, never constructed
// directly; valid for the registry's lifetime. All recording methods are
// wait-free and allocation-free.
class Series final {
 public:
  Series(const Series&) = delete;
  Series& operator=(const Series&) = delete;
  ~Series();

  // A call started: counts it and (by derivation) puts it in flight.
  void Start() noexcept;

  // A started call ended with `status_code` (gRPC code or HTTP status) after
  // `duration_ns` (negative counts as 0): takes it out of flight, counts it
  // under its status, and records its latency.
  void Finish(int status_code, int64_t duration_ns) noexcept {
    Finish(status_code, duration_ns, nullptr);
  }
  // As above; a non-null `exemplar` (a sampled call) also becomes the
  // exemplar of the latency's classic bucket unless that one is less than
  // 100 ms older (see the file comment). Still wait-free: if another call is
  // writing that bucket's exemplar at this moment, this one is skipped.
  void Finish(int status_code, int64_t duration_ns, const Exemplar* exemplar) noexcept;
  // As above, with an `absl::Duration`.
  void Finish(int status_code, absl::Duration duration) noexcept {
    Finish(status_code, absl::ToInt64Nanoseconds(duration));
  }

  // Streaming message counts.
  void AddMessagesReceived(uint64_t count = 1) noexcept;
  void AddMessagesSent(uint64_t count = 1) noexcept;

  // Request and response payload bytes, where the door knows them.
  void AddRequestBytes(uint64_t bytes) noexcept;
  void AddResponseBytes(uint64_t bytes) noexcept;

  // One message of a call, of known serialised size `bytes`: counts it as
  // sent or received, adds its bytes to the request or response byte counter
  // (a server receives requests and sends responses, a client the reverse)
  // and, on a gRPC series with size histograms, counts it in the size
  // bucket of that direction. The histogram's sum is the byte counter, so
  // on such a series message bytes should come through these calls only.
  void RecordMessageSent(uint64_t bytes) noexcept { RecordMessage(sent_direction_, bytes); }
  void RecordMessageReceived(uint64_t bytes) noexcept { RecordMessage(sent_direction_ ^ 1, bytes); }
  // Whether this series keeps size histograms (gRPC series of a registry
  // with `RegistryOptions::message_size_histograms`).
  bool has_size_histograms() const noexcept { return size_base_ != 0; }

  Protocol protocol() const noexcept { return protocol_; }
  Side side() const noexcept { return side_; }
  // gRPC: the service ("pkg.Service"); HTTP: the request method ("GET").
  absl::string_view scope() const noexcept { return scope_; }
  // gRPC: the method ("Method"); HTTP: the route template ("/orders/:id").
  absl::string_view name() const noexcept { return name_; }
  // True for the `_OTHER` overflow series.
  bool is_other() const noexcept { return is_other_; }
  // gRPC: how the method streams, when its registration said.
  RpcType rpc_type() const noexcept { return rpc_type_.load(std::memory_order_relaxed); }
  // When the series was created (its counts start there), Unix nanoseconds.
  int64_t start_unix_nanos() const noexcept { return start_unix_nanos_; }

 private:
  friend class Registry;
  Series(Protocol protocol, Side side, std::string scope, std::string name, bool is_other,
         int shards, bool size_histograms);

  // `direction`: 0 request, 1 response.
  void RecordMessage(unsigned direction, uint64_t bytes) noexcept;

  std::atomic<uint64_t>* ShardCells() const noexcept;
  int StatusSlot(int status_code) const noexcept;
  void RecordExemplar(int latency_slot, uint64_t value_ns, const Exemplar& exemplar) noexcept;

  const Protocol protocol_;
  const Side side_;
  const bool is_other_;
  const std::string scope_;
  const std::string name_;
  const int64_t start_unix_nanos_;
  // Written at registration only (a later registration may fill in an
  // unknown type), read by snapshots.
  std::atomic<RpcType> rpc_type_{RpcType::kUnknown};
  // Status-code → slot lookup for this protocol.
  const uint8_t* const slot_table_;
  const unsigned slot_table_size_;
  const int other_slot_;
  const int num_slots_;
  const uint32_t shard_mask_;
  // The direction (0 request, 1 response) this side sends.
  const unsigned sent_direction_;
  // First size-histogram cell of a shard (request, then response buckets);
  // 0 when the series keeps none.
  const size_t size_base_;
  const size_t stride_;               // cells per shard, a multiple of a cache line
  std::atomic<uint64_t>* cells_;      // shards × stride_, cache-line aligned
  std::atomic<uint64_t>* exemplars_;  // after the shards: one seqlocked slot per classic bucket
};

// One status slot of a series snapshot.
struct StatusCount {
  // The status code, or -1 for a slot that aggregates several ("5xx", "other").
  int code = -1;
  // The label: "0" … "16", "200", "5xx", "other". Points to static storage.
  absl::string_view label;
  // Calls handled with this status.
  uint64_t count = 0;
  // Whether `IsErrorStatus` counts these calls as errors.
  bool error = false;
};

// The exemplar of one classic latency bucket in a snapshot.
struct BucketExemplar {
  // The classic bucket: 0 … kClassicLatencyNumBounds (the last is +Inf).
  int bucket = 0;
  Exemplar call = {};
  // The call's latency, nanoseconds.
  uint64_t value_ns = 0;
};

// A copy of one series, read with relaxed loads. Taken while recorders run, it
// may be a few operations behind on some counters relative to others.
struct SeriesSnapshot {
  Protocol protocol = Protocol::kGrpc;
  Side side = Side::kServer;
  // See `Series::scope()` and `Series::name()`.
  std::string scope;
  std::string name;
  bool is_other = false;
  // See `Series::rpc_type()` and `Series::start_unix_nanos()`.
  RpcType rpc_type = RpcType::kUnknown;
  int64_t start_unix_nanos = 0;

  uint64_t started = 0;
  // Non-zero status slots, gRPC codes ascending then "other"; HTTP codes
  // ascending, then the class slots, then "other".
  std::vector<StatusCount> statuses;
  uint64_t messages_received = 0;
  uint64_t messages_sent = 0;
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  // Per-message sizes (see core/metrics/size_histogram.h); the sums are
  // `request_bytes` and `response_bytes`. Absent when the series keeps none.
  std::optional<SizeHistogram> request_size;
  std::optional<SizeHistogram> response_size;
  // Latency in seconds: scale kLatencyScale, zero threshold 2^-20 s (see
  // core/metrics/histogram.h). Values above 256 s are in its top bucket.
  ExponentialHistogram latency;
  // How many of `latency`'s top-bucket values lie above kLatencyMaxSeconds.
  uint64_t latency_overflow = 0;
  // A recent sampled call of each classic bucket that has one, by bucket.
  std::vector<BucketExemplar> exemplars;

  // Calls handled (sum over `statuses`).
  uint64_t Handled() const noexcept;
  // Calls handled with an error status.
  uint64_t Errors() const noexcept;
  // Calls in flight: started − handled, clamped at 0.
  uint64_t InFlight() const noexcept;
  // Calls with a recorded latency (equals `Handled()` when quiescent).
  uint64_t Count() const noexcept { return latency.count; }
  // Mean, estimated nearest-rank quantile (`q` in [0, 1]; within 1.09% of the
  // true value from 2^-20 s to 256 s, see core/metrics/exponential_histogram.h)
  // and maximum latency, seconds; 0 when there are no calls.
  double MeanSeconds() const noexcept { return latency.Mean(); }
  double PercentileSeconds(double q) const noexcept { return latency.Quantile(q); }
  double MaxSeconds() const noexcept { return latency.max.value_or(0.0); }
};

// The kind of an extra metric family contributed by a collector.
enum class MetricType : uint8_t { kCounter, kGauge };

// One sample of an extra family.
struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// An extra metric family computed at scrape time (for example the span
// pipeline's `tracebridge_spans_dropped_total{reason="queue_full"}`). Counter
// names should end in `_total`; the Prometheus encoder adds it if missing.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;
};

// Appends families to `out` at scrape time. Called with the registry's
// collector mutex held: it must not add or remove collectors.
using Collector = std::function<void(std::vector<MetricFamily>* out)>;

// Everything a scrape shows.
struct MetricsSnapshot {
  // Seconds since the registry was created.
  double uptime_seconds = 0;
  // When the registry was created and when the snapshot was taken, Unix
  // nanoseconds (the collectors' counters count from the former).
  int64_t start_unix_nanos = 0;
  int64_t unix_nanos = 0;
  // The registry's `RegistryOptions::naming`.
  MetricsNaming naming = MetricsNaming::kOtel;
  // Every registered series, then the overflow series that saw any call,
  // sorted by (protocol, side, overflow last, scope, name).
  std::vector<SeriesSnapshot> series;
  // Families from the collectors, in registration order.
  std::vector<MetricFamily> families;
};

// Owns every series. Not copyable or movable (series pointers stay valid for
// its lifetime).
class Registry final {
 public:
  explicit Registry(RegistryOptions options = RegistryOptions());
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names are stored as valid UTF-8 (ill-formed bytes become U+FFFD, see
  // core/util/utf8.h), so names that differ only there share a series; the
  // lock-free `Find*` lookups compare stored names and so miss a name that
  // needed repair, which `Register*` then finds.
  //
  // Returns the series for (gRPC, side, service, method), creating it on
  // first registration; at the cap, returns `GrpcOther(side)`. Idempotent.
  // `type` is how the method streams; a known type given later replaces
  // `kUnknown`, never another known type.
  Series* RegisterGrpcMethod(Side side, absl::string_view service, absl::string_view method,
                             RpcType type = RpcType::kUnknown);

  // Returns the series for (HTTP, side, request method, route template),
  // creating it on first registration; at the cap, returns
  // `HttpOther(side, http_method)`. The method is canonicalised with
  // `CanonicalHttpMethod`. Idempotent.
  Series* RegisterHttpRoute(Side side, absl::string_view http_method, absl::string_view route);

  // Lock-free, allocation-free lookups: the registered series, else the
  // overflow series. Never null.
  Series* FindGrpcMethod(Side side, absl::string_view service,
                         absl::string_view method) const noexcept;
  // As above for a full method name "/pkg.Service/Method".
  Series* FindGrpcFullMethod(Side side, absl::string_view full_method) const noexcept;
  Series* FindHttpRoute(Side side, absl::string_view http_method,
                        absl::string_view route) const noexcept;

  // The overflow series. Never null.
  Series* GrpcOther(Side side) const noexcept;
  Series* HttpOther(Side side, absl::string_view http_method) const noexcept;

  // Registered series so far (overflow series not included).
  size_t registered_count() const noexcept;
  size_t max_series() const noexcept { return max_series_; }
  MetricsNaming naming() const noexcept { return naming_; }

  // Copies every series (see `MetricsSnapshot`) and runs the collectors.
  // Never blocks recorders or registration.
  MetricsSnapshot Snapshot() const;

  // Adds a scrape-time collector; returns an id for `RemoveCollector`.
  int AddCollector(Collector collector);
  // Removes a collector. When this returns, the collector is not running and
  // will not run again.
  void RemoveCollector(int id);

 private:
  Series* NewSeries(Protocol protocol, Side side, absl::string_view scope, absl::string_view name,
                    bool is_other) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Series* Lookup(Protocol protocol, Side side, absl::string_view scope,
                 absl::string_view name) const noexcept;
  Series* Register(Protocol protocol, Side side, absl::string_view scope, absl::string_view name,
                   Series* other, RpcType type);

  const size_t max_series_;
  const int shards_;
  const MetricsNaming naming_;
  const bool size_histograms_;
  const std::chrono::steady_clock::time_point created_;
  const int64_t created_unix_nanos_;

  // Open-addressed hash index of the registered series, at most half full:
  // written under `mu_`, read lock-free (release/acquire on each slot).
  const size_t table_mask_;
  std::unique_ptr<std::atomic<Series*>[]> table_;

  // Every series in creation order (overflow series first). Entries below
  // `list_size_` are immutable once published with a release store.
  std::unique_ptr<Series*[]> list_;
  std::atomic<size_t> list_size_{0};
  std::atomic<size_t> registered_{0};

  Series* grpc_other_[2] = {};
  Series* http_other_[2][10] = {};

  // std::mutex rather than absl::Mutex, like every lock in tracebridge:
  // Debian's Abseil is not built with ThreadSanitizer, which therefore cannot
  // see absl::Mutex's happens-before edges; pthread mutexes it intercepts.
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Series>> owned_ ABSL_GUARDED_BY(mu_);

  mutable std::mutex collectors_mu_;
  std::vector<std::pair<int, Collector>> collectors_ ABSL_GUARDED_BY(collectors_mu_);
  int next_collector_id_ ABSL_GUARDED_BY(collectors_mu_) = 1;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_REGISTRY_H_
