// File: core/metrics/registry.cc

#include "tracebridge/core/metrics/registry.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <tuple>

#include "absl/base/optimization.h"
#include "absl/hash/hash.h"
#include "absl/time/clock.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

// ---------------------------------------------------------------------------
// Status slots. Each protocol maps a status code to a dense slot index through
// a byte table; codes past the table go to the protocol's "other" slot.

struct SlotInfo {
  int code;       // exact code, or -1 for an aggregate slot
  int rule_code;  // the code IsErrorStatus judges the slot by
  char label[6];
};

constexpr SlotInfo MakeExactSlot(int code) {
  SlotInfo info{code, code, {}};
  if (code >= 10) {
    int digits = code >= 100 ? 3 : 2;
    for (int i = digits - 1, c = code; i >= 0; --i, c /= 10) {
      info.label[i] = static_cast<char>('0' + c % 10);
    }
  } else {
    info.label[0] = static_cast<char>('0' + code);
  }
  return info;
}

constexpr int kGrpcCodes = 17;
constexpr int kGrpcSlots = kGrpcCodes + 1;  // + "other"

struct GrpcSlots {
  SlotInfo info[kGrpcSlots] = {};
  uint8_t table[kGrpcCodes] = {};
};

constexpr GrpcSlots MakeGrpcSlots() {
  GrpcSlots slots;
  for (int code = 0; code < kGrpcCodes; ++code) {
    slots.info[code] = MakeExactSlot(code);
    slots.table[code] = static_cast<uint8_t>(code);
  }
  slots.info[kGrpcCodes] = SlotInfo{-1, -1, {'o', 't', 'h', 'e', 'r', 0}};
  return slots;
}
constexpr GrpcSlots kGrpc = MakeGrpcSlots();

constexpr bool IsExactHttpCode(int code) {
  return (code >= 100 && code <= 103) || (code >= 200 && code <= 208) || code == 226 ||
         (code >= 300 && code <= 308) || (code >= 400 && code <= 431) || code == 451 ||
         code == 499 || (code >= 500 && code <= 511);
}

constexpr int CountExactHttpCodes() {
  int n = 0;
  for (int code = 100; code < 600; ++code) n += IsExactHttpCode(code) ? 1 : 0;
  return n;
}

constexpr int kHttpExact = CountExactHttpCodes();
constexpr int kHttpSlots = kHttpExact + 5 + 1;  // + "1xx".."5xx" + "other"
constexpr int kHttpTableSize = 600;

struct HttpSlots {
  SlotInfo info[kHttpSlots] = {};
  uint8_t table[kHttpTableSize] = {};
};

constexpr HttpSlots MakeHttpSlots() {
  HttpSlots slots;
  int next = 0;
  for (int code = 100; code < 600; ++code) {
    if (IsExactHttpCode(code)) slots.info[next++] = MakeExactSlot(code);
  }
  for (int cls = 1; cls <= 5; ++cls) {
    slots.info[kHttpExact + cls - 1] =
        SlotInfo{-1, cls * 100, {static_cast<char>('0' + cls), 'x', 'x', 0, 0, 0}};
  }
  const int other = kHttpSlots - 1;
  slots.info[other] = SlotInfo{-1, 0, {'o', 't', 'h', 'e', 'r', 0}};
  int exact = 0;
  for (int code = 0; code < kHttpTableSize; ++code) {
    if (code < 100) {
      slots.table[code] = static_cast<uint8_t>(other);
    } else if (IsExactHttpCode(code)) {
      slots.table[code] = static_cast<uint8_t>(exact++);
    } else {
      slots.table[code] = static_cast<uint8_t>(kHttpExact + code / 100 - 1);
    }
  }
  return slots;
}
constexpr HttpSlots kHttp = MakeHttpSlots();
static_assert(kHttpSlots < 256, "slots must fit the byte table");

// ---------------------------------------------------------------------------
// Cell layout of one shard: fixed counters (one cache line), the latency
// slots, then the status slots, padded to whole cache lines. After the
// shards come the exemplar slots, shared by all shards.

constexpr size_t kCacheLine = 64;
constexpr size_t kCellsPerLine = kCacheLine / sizeof(std::atomic<uint64_t>);
constexpr size_t kStartedCell = 0;
constexpr size_t kSumCell = 1;
constexpr size_t kMaxCell = 2;
// The minimum, stored complemented (~min) so that "raise to" serves both
// extremes and the zero-initialised cell means "no value yet".
constexpr size_t kMinCell = 3;
constexpr size_t kMessagesReceivedCell = 4;
constexpr size_t kMessagesSentCell = 5;
constexpr size_t kRequestBytesCell = 6;
constexpr size_t kResponseBytesCell = 7;
constexpr size_t kLatencyBase = kCellsPerLine;
constexpr size_t kStatusBase = kLatencyBase + kLatencyNumSlots;

constexpr size_t RoundToLines(size_t cells) {
  return (cells + kCellsPerLine - 1) / kCellsPerLine * kCellsPerLine;
}
// The size histograms (request, then response) follow the status slots.
constexpr size_t kSizeCells = 2 * kSizeNumBuckets;
constexpr size_t StrideFor(int slots, bool sizes) {
  return RoundToLines(kStatusBase + slots + (sizes ? kSizeCells : 0));
}
static_assert(StrideFor(kGrpcSlots, false) == 928, "documented in registry.h");
static_assert(StrideFor(kGrpcSlots, true) == 1000, "documented in registry.h");
static_assert(StrideFor(kHttpSlots, false) == 984, "documented in registry.h");

// An exemplar slot: a sequence word (odd while a writer is inside), the
// trace id (two words), the span id, the value in ns and the Unix time in ns.
constexpr size_t kExemplarSeq = 0;
constexpr size_t kExemplarTrace = 1;
constexpr size_t kExemplarSpan = 3;
constexpr size_t kExemplarValue = 4;
constexpr size_t kExemplarTime = 5;
constexpr size_t kExemplarWords = 6;
constexpr size_t kExemplarCells = RoundToLines(kExemplarWords * kClassicLatencyNumBuckets);
// How long an exemplar stands before a newer sampled call may replace it.
constexpr int64_t kExemplarRefreshNanos = 100'000'000;
static_assert(kExemplarCells * 8 == 1472, "documented in registry.h");

// Raises `cell` to `value` if it is higher (a relaxed load when it is not).
inline void RaiseTo(std::atomic<uint64_t>& cell, uint64_t value) noexcept {
  uint64_t seen = cell.load(std::memory_order_relaxed);
  while (value > seen && !cell.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

// ---------------------------------------------------------------------------
// Per-thread shard choice: each thread takes the next index on first use, so
// threads created together land on different shards.

std::atomic<uint32_t> next_thread_index{0};
thread_local uint32_t thread_index_plus_one = 0;  // 0: not yet assigned

inline uint32_t ThreadIndex() noexcept {
  uint32_t v = thread_index_plus_one;
  if (ABSL_PREDICT_FALSE(v == 0)) {
    v = next_thread_index.fetch_add(1, std::memory_order_relaxed) + 1;
    thread_index_plus_one = v;
  }
  return v - 1;
}

constexpr absl::string_view kHttpMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                              "CONNECT", "OPTIONS", "TRACE", "PATCH"};
constexpr int kNumHttpMethods = 9;  // index 9 is `_OTHER`

int HttpMethodIndex(absl::string_view method) noexcept {
  for (int i = 0; i < kNumHttpMethods; ++i) {
    if (method == kHttpMethods[i]) return i;
  }
  return kNumHttpMethods;
}

int RoundUpShards(int shards) {
  int n = 1;
  while (n < shards && n < 64) n <<= 1;
  return n;
}

size_t TableSizeFor(size_t max_series) {
  size_t n = 16;
  while (n < 2 * max_series) n <<= 1;
  return n;
}

size_t HashKey(Protocol protocol, Side side, absl::string_view scope,
               absl::string_view name) noexcept {
  return absl::Hash<std::tuple<int, int, absl::string_view, absl::string_view>>()(
      std::make_tuple(static_cast<int>(protocol), static_cast<int>(side), scope, name));
}

const SlotInfo* SlotInfos(Protocol protocol) {
  return protocol == Protocol::kGrpc ? kGrpc.info : kHttp.info;
}

}  // namespace

bool IsErrorStatus(Protocol protocol, Side side, int status_code) noexcept {
  if (protocol == Protocol::kGrpc) {
    if (side == Side::kClient) return status_code != 0;
    switch (status_code) {
      case 2:   // UNKNOWN
      case 4:   // DEADLINE_EXCEEDED
      case 12:  // UNIMPLEMENTED
      case 13:  // INTERNAL
      case 14:  // UNAVAILABLE
      case 15:  // DATA_LOSS
        return true;
      default:
        return status_code < 0 || status_code > 16;
    }
  }
  if (status_code < 100 || status_code > 599) return true;
  return status_code >= (side == Side::kServer ? 500 : 400);
}

absl::string_view CanonicalHttpMethod(absl::string_view method) noexcept {
  const int index = HttpMethodIndex(method);
  return index < kNumHttpMethods ? kHttpMethods[index] : kOtherName;
}

bool SplitGrpcFullMethod(absl::string_view full_method, absl::string_view* service,
                         absl::string_view* method) noexcept {
  if (full_method.size() < 4 || full_method[0] != '/') return false;
  const size_t slash = full_method.find('/', 1);
  if (slash == absl::string_view::npos || slash == 1 || slash + 1 == full_method.size() ||
      full_method.find('/', slash + 1) != absl::string_view::npos) {
    return false;
  }
  *service = full_method.substr(1, slash - 1);
  *method = full_method.substr(slash + 1);
  return true;
}

// ---------------------------------------------------------------------------
// Series

Series::Series(Protocol protocol, Side side, std::string scope, std::string name, bool is_other,
               int shards, bool size_histograms)
    : protocol_(protocol),
      side_(side),
      is_other_(is_other),
      scope_(std::move(scope)),
      name_(std::move(name)),
      start_unix_nanos_(absl::GetCurrentTimeNanos()),
      slot_table_(protocol == Protocol::kGrpc ? kGrpc.table : kHttp.table),
      slot_table_size_(protocol == Protocol::kGrpc ? kGrpcCodes : kHttpTableSize),
      other_slot_(protocol == Protocol::kGrpc ? kGrpcSlots - 1 : kHttpSlots - 1),
      num_slots_(protocol == Protocol::kGrpc ? kGrpcSlots : kHttpSlots),
      shard_mask_(static_cast<uint32_t>(shards - 1)),
      sent_direction_(side == Side::kServer ? 1 : 0),
      size_base_(size_histograms ? kStatusBase + num_slots_ : 0),
      stride_(StrideFor(num_slots_, size_histograms)) {
  const size_t cells = stride_ * static_cast<size_t>(shards) + kExemplarCells;
  void* memory =
      ::operator new (cells * sizeof(std::atomic<uint64_t>), std::align_val_t{kCacheLine});
  cells_ = static_cast<std::atomic<uint64_t>*>(memory);
  for (size_t i = 0; i < cells; ++i) new (&cells_[i]) std::atomic<uint64_t>(0);
  exemplars_ = cells_ + stride_ * static_cast<size_t>(shards);
}

Series::~Series() { ::operator delete (cells_, std::align_val_t{kCacheLine}); }

inline std::atomic<uint64_t>* Series::ShardCells() const noexcept {
  return cells_ + (ThreadIndex() & shard_mask_) * stride_;
}

inline int Series::StatusSlot(int status_code) const noexcept {
  const unsigned code = static_cast<unsigned>(status_code);  // negatives become huge
  return code < slot_table_size_ ? slot_table_[code] : other_slot_;
}

void Series::Start() noexcept {
  ShardCells()[kStartedCell].fetch_add(1, std::memory_order_relaxed);
}

void Series::Finish(int status_code, int64_t duration_ns, const Exemplar* exemplar) noexcept {
  const uint64_t value = duration_ns > 0 ? static_cast<uint64_t>(duration_ns) : 0;
  std::atomic<uint64_t>* cells = ShardCells();
  cells[kStatusBase + StatusSlot(status_code)].fetch_add(1, std::memory_order_relaxed);
  const int slot = LatencySlot(value);
  cells[kLatencyBase + slot].fetch_add(1, std::memory_order_relaxed);
  cells[kSumCell].fetch_add(value, std::memory_order_relaxed);
  RaiseTo(cells[kMaxCell], value);
  RaiseTo(cells[kMinCell], ~value);
  if (exemplar != nullptr) RecordExemplar(slot, value, *exemplar);
}

// A seqlock writer that never waits: the compare-and-swap to an odd sequence
// claims the slot; a slot some other call holds is left to it. A slot
// written less than kExemplarRefreshNanos ago is kept: those two loads leave
// the cache line shared, so sampled calls on many cores do not bounce it.
void Series::RecordExemplar(int latency_slot, uint64_t value_ns,
                            const Exemplar& exemplar) noexcept {
  std::atomic<uint64_t>* words =
      exemplars_ + kExemplarWords * static_cast<size_t>(ClassicLatencyBucketOfSlot(latency_slot));
  uint64_t sequence = words[kExemplarSeq].load(std::memory_order_relaxed);
  const int64_t age = exemplar.unix_nanos -
                      static_cast<int64_t>(words[kExemplarTime].load(std::memory_order_relaxed));
  // Calls on other threads may end a little out of order (a small negative
  // age); a wall clock stepped back further counts as old enough.
  if (sequence != 0 && age > -kExemplarRefreshNanos && age < kExemplarRefreshNanos) return;
  if ((sequence & 1) != 0 || !words[kExemplarSeq].compare_exchange_strong(
                                 sequence, sequence + 1, std::memory_order_relaxed)) {
    return;
  }
  // Release stores: a reader whose acquire load sees one of them also sees
  // the odd sequence before it, so it never takes a half-written slot for a
  // whole one. (No standalone fences: ThreadSanitizer cannot check them.)
  // On x86 these are plain stores.
  uint64_t ids[3];
  std::memcpy(ids, exemplar.trace_id, 16);
  std::memcpy(ids + 2, exemplar.span_id, 8);
  words[kExemplarTrace].store(ids[0], std::memory_order_release);
  words[kExemplarTrace + 1].store(ids[1], std::memory_order_release);
  words[kExemplarSpan].store(ids[2], std::memory_order_release);
  words[kExemplarValue].store(value_ns, std::memory_order_release);
  words[kExemplarTime].store(static_cast<uint64_t>(exemplar.unix_nanos), std::memory_order_release);
  words[kExemplarSeq].store(sequence + 2, std::memory_order_release);
}

void Series::AddMessagesReceived(uint64_t count) noexcept {
  ShardCells()[kMessagesReceivedCell].fetch_add(count, std::memory_order_relaxed);
}

void Series::AddMessagesSent(uint64_t count) noexcept {
  ShardCells()[kMessagesSentCell].fetch_add(count, std::memory_order_relaxed);
}

void Series::AddRequestBytes(uint64_t bytes) noexcept {
  ShardCells()[kRequestBytesCell].fetch_add(bytes, std::memory_order_relaxed);
}

void Series::AddResponseBytes(uint64_t bytes) noexcept {
  ShardCells()[kResponseBytesCell].fetch_add(bytes, std::memory_order_relaxed);
}

void Series::RecordMessage(unsigned direction, uint64_t bytes) noexcept {
  static_assert(kResponseBytesCell == kRequestBytesCell + 1, "indexed by direction");
  std::atomic<uint64_t>* cells = ShardCells();
  // Messages sent by this side go in the direction it sends.
  cells[direction == sent_direction_ ? kMessagesSentCell : kMessagesReceivedCell].fetch_add(
      1, std::memory_order_relaxed);
  cells[kRequestBytesCell + direction].fetch_add(bytes, std::memory_order_relaxed);
  if (size_base_ != 0) {
    cells[size_base_ + direction * kSizeNumBuckets + SizeBucket(bytes)].fetch_add(
        1, std::memory_order_relaxed);
  }
}

// ---------------------------------------------------------------------------
// SeriesSnapshot

uint64_t SeriesSnapshot::Handled() const noexcept {
  uint64_t handled = 0;
  for (const StatusCount& status : statuses) handled += status.count;
  return handled;
}

uint64_t SeriesSnapshot::Errors() const noexcept {
  uint64_t errors = 0;
  for (const StatusCount& status : statuses) errors += status.error ? status.count : 0;
  return errors;
}

uint64_t SeriesSnapshot::InFlight() const noexcept {
  // Reads are not one atomic cut: a finish may be seen without its start.
  const uint64_t handled = Handled();
  return started > handled ? started - handled : 0;
}

// ---------------------------------------------------------------------------
// Registry

Registry::Registry(RegistryOptions options)
    : max_series_(options.max_series),
      shards_(RoundUpShards(options.shards)),
      naming_(options.naming),
      size_histograms_(options.message_size_histograms),
      created_(std::chrono::steady_clock::now()),
      created_unix_nanos_(absl::GetCurrentTimeNanos()),
      table_mask_(TableSizeFor(options.max_series) - 1),
      table_(new std::atomic<Series*>[table_mask_ + 1]),
      list_(new Series*[options.max_series + 2 + 2 * (kNumHttpMethods + 1)]) {
  for (size_t i = 0; i <= table_mask_; ++i) table_[i].store(nullptr, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  for (Side side : {Side::kServer, Side::kClient}) {
    const int s = static_cast<int>(side);
    grpc_other_[s] = NewSeries(Protocol::kGrpc, side, kOtherName, kOtherName, true);
    for (int m = 0; m <= kNumHttpMethods; ++m) {
      http_other_[s][m] =
          NewSeries(Protocol::kHttp, side, m < kNumHttpMethods ? kHttpMethods[m] : kOtherName,
                    kOtherName, true);
    }
  }
}

Registry::~Registry() = default;

Series* Registry::NewSeries(Protocol protocol, Side side, absl::string_view scope,
                            absl::string_view name, bool is_other) {
  owned_.emplace_back(new Series(protocol, side, std::string(scope), std::string(name), is_other,
                                 shards_, size_histograms_ && protocol == Protocol::kGrpc));
  Series* series = owned_.back().get();
  const size_t index = list_size_.load(std::memory_order_relaxed);
  list_[index] = series;
  list_size_.store(index + 1, std::memory_order_release);
  return series;
}

Series* Registry::Lookup(Protocol protocol, Side side, absl::string_view scope,
                         absl::string_view name) const noexcept {
  for (size_t i = HashKey(protocol, side, scope, name) & table_mask_;; i = (i + 1) & table_mask_) {
    Series* series = table_[i].load(std::memory_order_acquire);
    if (series == nullptr) return nullptr;
    if (series->protocol_ == protocol && series->side_ == side && series->scope_ == scope &&
        series->name_ == name) {
      return series;
    }
  }
}

Series* Registry::Register(Protocol protocol, Side side, absl::string_view scope,
                           absl::string_view name, Series* other, RpcType type) {
  // Labels leave the process (Prometheus, JSON, the query service) and must
  // be valid UTF-8: stored repaired, names that differ only in ill-formed
  // bytes share one series rather than make two with the same labels.
  std::string repaired_scope, repaired_name;
  if (!IsValidUtf8(scope)) scope = repaired_scope = ValidUtf8Copy(scope);
  if (!IsValidUtf8(name)) name = repaired_name = ValidUtf8Copy(name);
  // The overflow series' own names would make a second series with its labels.
  if (name == kOtherName || (protocol == Protocol::kGrpc && scope == kOtherName)) return other;
  std::lock_guard<std::mutex> lock(mu_);
  const size_t hash = HashKey(protocol, side, scope, name);
  size_t i = hash & table_mask_;
  for (;; i = (i + 1) & table_mask_) {
    Series* series = table_[i].load(std::memory_order_relaxed);
    if (series == nullptr) break;
    if (series->protocol_ == protocol && series->side_ == side && series->scope_ == scope &&
        series->name_ == name) {
      if (type != RpcType::kUnknown && series->rpc_type() == RpcType::kUnknown) {
        series->rpc_type_.store(type, std::memory_order_relaxed);
      }
      return series;
    }
  }
  const size_t registered = registered_.load(std::memory_order_relaxed);
  if (registered >= max_series_) return other;
  Series* series = NewSeries(protocol, side, scope, name, false);
  series->rpc_type_.store(type, std::memory_order_relaxed);
  table_[i].store(series, std::memory_order_release);
  registered_.store(registered + 1, std::memory_order_relaxed);
  return series;
}

Series* Registry::RegisterGrpcMethod(Side side, absl::string_view service, absl::string_view method,
                                     RpcType type) {
  return Register(Protocol::kGrpc, side, service, method, GrpcOther(side), type);
}

Series* Registry::RegisterHttpRoute(Side side, absl::string_view http_method,
                                    absl::string_view route) {
  const absl::string_view canonical = CanonicalHttpMethod(http_method);
  return Register(Protocol::kHttp, side, canonical, route, HttpOther(side, canonical),
                  RpcType::kUnknown);
}

Series* Registry::FindGrpcMethod(Side side, absl::string_view service,
                                 absl::string_view method) const noexcept {
  Series* series = Lookup(Protocol::kGrpc, side, service, method);
  return series != nullptr ? series : GrpcOther(side);
}

Series* Registry::FindGrpcFullMethod(Side side, absl::string_view full_method) const noexcept {
  absl::string_view service, method;
  if (!SplitGrpcFullMethod(full_method, &service, &method)) return GrpcOther(side);
  return FindGrpcMethod(side, service, method);
}

Series* Registry::FindHttpRoute(Side side, absl::string_view http_method,
                                absl::string_view route) const noexcept {
  const absl::string_view canonical = CanonicalHttpMethod(http_method);
  Series* series = Lookup(Protocol::kHttp, side, canonical, route);
  return series != nullptr ? series : HttpOther(side, canonical);
}

Series* Registry::GrpcOther(Side side) const noexcept {
  return grpc_other_[static_cast<int>(side)];
}

Series* Registry::HttpOther(Side side, absl::string_view http_method) const noexcept {
  return http_other_[static_cast<int>(side)][HttpMethodIndex(http_method)];
}

size_t Registry::registered_count() const noexcept {
  return registered_.load(std::memory_order_relaxed);
}

namespace {

// The exemplar in seqlocked slot `words`, if one was ever written and a
// consistent copy could be read in a few tries.
bool ReadExemplar(const std::atomic<uint64_t>* words, BucketExemplar* out) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const uint64_t before = words[kExemplarSeq].load(std::memory_order_acquire);
    if (before == 0) return false;  // never written
    // Acquire loads keep the second sequence load after them (see
    // RecordExemplar).
    uint64_t data[kExemplarWords];
    for (size_t w = 1; w < kExemplarWords; ++w) data[w] = words[w].load(std::memory_order_acquire);
    if ((before & 1) != 0 || words[kExemplarSeq].load(std::memory_order_relaxed) != before) {
      continue;
    }
    std::memcpy(out->call.trace_id, &data[kExemplarTrace], 16);
    std::memcpy(out->call.span_id, &data[kExemplarSpan], 8);
    out->value_ns = data[kExemplarValue];
    out->call.unix_nanos = static_cast<int64_t>(data[kExemplarTime]);
    return true;
  }
  return false;
}

SeriesSnapshot ReadSeries(const Series& series, const std::atomic<uint64_t>* cells,
                          const std::atomic<uint64_t>* exemplars, size_t stride, int shards,
                          int num_slots, size_t size_base) {
  SeriesSnapshot out;
  out.protocol = series.protocol();
  out.side = series.side();
  out.scope = std::string(series.scope());
  out.name = std::string(series.name());
  out.is_other = series.is_other();
  out.rpc_type = series.rpc_type();
  out.start_unix_nanos = series.start_unix_nanos();
  std::vector<uint64_t> slots(static_cast<size_t>(num_slots), 0);
  std::vector<uint64_t> latency(kLatencyNumSlots, 0);
  uint64_t sum_ns = 0, max_ns = 0, min_complement = 0;
  SizeHistogram sizes[2];
  for (int shard = 0; shard < shards; ++shard) {
    const std::atomic<uint64_t>* c = cells + static_cast<size_t>(shard) * stride;
    // Status slots before `started`, so a call counted as handled has usually
    // been counted as started too (see SeriesSnapshot::InFlight).
    for (int s = 0; s < num_slots; ++s) {
      slots[s] += c[kStatusBase + s].load(std::memory_order_relaxed);
    }
    out.started += c[kStartedCell].load(std::memory_order_relaxed);
    out.messages_received += c[kMessagesReceivedCell].load(std::memory_order_relaxed);
    out.messages_sent += c[kMessagesSentCell].load(std::memory_order_relaxed);
    out.request_bytes += c[kRequestBytesCell].load(std::memory_order_relaxed);
    out.response_bytes += c[kResponseBytesCell].load(std::memory_order_relaxed);
    for (int b = 0; b < kLatencyNumSlots; ++b) {
      latency[b] += c[kLatencyBase + b].load(std::memory_order_relaxed);
    }
    if (size_base != 0) {
      for (int d = 0; d < 2; ++d) {
        for (int b = 0; b < kSizeNumBuckets; ++b) {
          sizes[d].counts[b] +=
              c[size_base + d * kSizeNumBuckets + b].load(std::memory_order_relaxed);
        }
      }
    }
    sum_ns += c[kSumCell].load(std::memory_order_relaxed);
    max_ns = std::max(max_ns, c[kMaxCell].load(std::memory_order_relaxed));
    min_complement = std::max(min_complement, c[kMinCell].load(std::memory_order_relaxed));
  }
  if (size_base != 0) {
    sizes[0].sum = out.request_bytes;
    sizes[1].sum = out.response_bytes;
    out.request_size = sizes[0];
    out.response_size = sizes[1];
  }
  out.latency = LatencyHistogramFromSlots(latency.data(), sum_ns, ~min_complement, max_ns);
  out.latency_overflow = latency[kLatencyOverflowSlot];
  for (int bucket = 0; bucket < kClassicLatencyNumBuckets; ++bucket) {
    BucketExemplar exemplar;
    exemplar.bucket = bucket;
    if (ReadExemplar(exemplars + kExemplarWords * static_cast<size_t>(bucket), &exemplar)) {
      out.exemplars.push_back(exemplar);
    }
  }
  const SlotInfo* infos = SlotInfos(series.protocol());
  for (int s = 0; s < num_slots; ++s) {
    if (slots[s] == 0) continue;
    StatusCount status;
    status.code = infos[s].code;
    status.label = infos[s].label;
    status.count = slots[s];
    status.error = IsErrorStatus(series.protocol(), series.side(), infos[s].rule_code);
    out.statuses.push_back(status);
  }
  return out;
}

}  // namespace

MetricsSnapshot Registry::Snapshot() const {
  MetricsSnapshot snapshot;
  snapshot.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - created_).count();
  snapshot.start_unix_nanos = created_unix_nanos_;
  snapshot.unix_nanos = absl::GetCurrentTimeNanos();
  snapshot.naming = naming_;
  const size_t size = list_size_.load(std::memory_order_acquire);
  snapshot.series.reserve(size);
  for (size_t i = 0; i < size; ++i) {
    const Series& series = *list_[i];
    SeriesSnapshot copy = ReadSeries(series, series.cells_, series.exemplars_, series.stride_,
                                     shards_, series.num_slots_, series.size_base_);
    // An idle overflow series says nothing; a registered one says "no calls".
    if (series.is_other() && copy.started == 0 && copy.statuses.empty() &&
        copy.messages_received == 0 && copy.messages_sent == 0 && copy.request_bytes == 0 &&
        copy.response_bytes == 0 && (!copy.request_size || copy.request_size->Count() == 0) &&
        (!copy.response_size || copy.response_size->Count() == 0)) {
      continue;
    }
    snapshot.series.push_back(std::move(copy));
  }
  std::sort(snapshot.series.begin(), snapshot.series.end(),
            [](const SeriesSnapshot& a, const SeriesSnapshot& b) {
              return std::tie(a.protocol, a.side, a.is_other, a.scope, a.name) <
                     std::tie(b.protocol, b.side, b.is_other, b.scope, b.name);
            });
  std::lock_guard<std::mutex> lock(collectors_mu_);
  for (const auto& entry : collectors_) entry.second(&snapshot.families);
  return snapshot;
}

int Registry::AddCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  const int id = next_collector_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void Registry::RemoveCollector(int id) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_.erase(std::remove_if(collectors_.begin(), collectors_.end(),
                                   [id](const auto& entry) { return entry.first == id; }),
                    collectors_.end());
}

}  // namespace tracebridge
