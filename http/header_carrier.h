// File: tracebridge/http/header_carrier.h
//
// Carrier adapters between Pistache 0.0.5 headers and the core propagators,
// and `NamedHeader`, a Pistache header whose name is chosen at run time.
//
// Reading: `RequestHeaderReader` looks a key up case-insensitively in the raw
// headers Pistache keeps for every request header, then among the typed
// headers Pistache parses for well-known names (User-Agent, Host, ...), so a
// propagator sees a header whichever way Pistache stored it. Pistache keeps
// only the first of repeated request headers, so every key has at most one
// value here; `ApplyRepeatedTraceHeaders` (which the traced router's handler
// runs on every request) first folds repeated tracing headers into that one
// value (see the README's "Pistache limits").
//
// Writing: Pistache 0.0.5 serialises only typed headers (raw headers added to
// a response or a client request are silently dropped), so the writers add a
// `NamedHeader` per key. `ResponseHeaderWriter` writes into a header
// collection (a server response's `headers()`); `RequestBuilderWriter` into an
// outgoing client request.
//
// Threading: each object is used by one thread at a time, like the request or
// response it adapts.
//
// Example:
//
//   tracebridge::RequestHeaderReader reader(request.headers());
//   tracebridge::PropagatedContext incoming;
//   telemetry.propagator().Extract(reader, &incoming);
//
//   tracebridge::ResponseHeaderWriter writer(&response.headers());
//   writer.Set("x-trace-id", span.context().trace_id().ToHex());

#ifndef TRACEBRIDGE_HTTP_HEADER_CARRIER_H_
#define TRACEBRIDGE_HTTP_HEADER_CARRIER_H_

#include <forward_list>
#include <ostream>
#include <string>

#include <pistache/client.h>
#include <pistache/http_header.h>
#include <pistache/http_headers.h>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/propagation/carrier.h"

namespace tracebridge {

// A Pistache header with a name and value chosen at run time: what tracebridge
// adds for `traceparent`, `X-Trace-ID`, `Content-Type` with parameters, and
// every propagation field, none of which Pistache has a type for.
//
// Pistache's typed lookups (`Collection::get<H>()`) cast by name without
// checking the type, so never add a `NamedHeader` under a name Pistache itself
// reads back as a typed header on the same collection (for example
// `Content-Type` together with a valid `MediaType` passed to `send`).
class NamedHeader final : public Pistache::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}

  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
  void parseRaw(const char* str, size_t len) override { value_.assign(str, len); }
#ifdef SAFE_HEADER_CAST
  // Pistache's checked cast (`header_cast`) compares this against the target
  // type's hash; a value no named header type uses keeps it from ever
  // matching.
  uint64_t hash() const override { return 0x7472616365627267ull; }  // "tracebrg"
#endif

  const std::string& value() const noexcept { return value_; }

 private:
  std::string name_;
  std::string value_;
};

// Reads a Pistache request's headers (see the file comment). The views it
// hands out stay valid for the reader's lifetime: Pistache returns header
// values by copy, so the reader keeps the copies.
class RequestHeaderReader final : public CarrierReader {
 public:
  // `headers` must outlive the reader.
  explicit RequestHeaderReader(const Pistache::Http::Header::Collection& headers)
      : headers_(headers) {}

  RequestHeaderReader(const RequestHeaderReader&) = delete;
  RequestHeaderReader& operator=(const RequestHeaderReader&) = delete;

  void ForEachValue(absl::string_view key,
                    absl::FunctionRef<bool(absl::string_view)> fn) const override;
  void ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const override;
  absl::string_view Get(absl::string_view key, bool* found = nullptr) const override;

 private:
  // Copies the value of `key` into `values_`; false when absent.
  bool Lookup(absl::string_view key, absl::string_view* value) const;

  const Pistache::Http::Header::Collection& headers_;
  // A forward_list, so earlier views stay valid as values are added.
  mutable std::forward_list<std::string> values_;
};

// Calls `fn(name, value)` for each complete header line of a request's raw
// `head`, read the way Pistache 0.0.5 reads them (name up to the first ':',
// value after leading spaces), repeated lines included, in order. The
// request line is skipped; the empty line ends the head.
void ForEachHeaderLine(absl::string_view head,
                       absl::FunctionRef<void(absl::string_view, absl::string_view)> fn);

// Pistache 0.0.5 keeps only the first line of a repeated request header. Given
// the request's raw head (request line and header lines, as received), makes
// `headers` say what RFC 9110 section 5.3 and W3C Trace Context say the
// repeated lines mean:
//   - repeated `tracestate` or `baggage` lines (list-valued fields) are
//     combined, in order, into one value joined with ",";
//   - a repeated `traceparent` (a single-valued field) is invalid: it is
//     removed, so the request starts a new trace and its `tracestate` is
//     ignored, as for any invalid `traceparent`.
// Names match case-insensitively, as Pistache matches them; a header line is
// read as Pistache reads it (name up to the first ':', value after leading
// spaces). Scans the head once; allocates only when a name repeats.
void ApplyRepeatedTraceHeaders(absl::string_view head, Pistache::Http::Header::Collection* headers);

// Writes into a Pistache header collection (a server response's headers).
// `Set` replaces an earlier header of the same name.
class ResponseHeaderWriter final : public CarrierWriter {
 public:
  // `headers` must outlive the writer.
  explicit ResponseHeaderWriter(Pistache::Http::Header::Collection* headers) : headers_(headers) {}

  void Set(absl::string_view key, absl::string_view value) override;

 private:
  Pistache::Http::Header::Collection* headers_;
};

// Writes into an outgoing Pistache client request.
class RequestBuilderWriter final : public CarrierWriter {
 public:
  // `builder` must outlive the writer.
  explicit RequestBuilderWriter(Pistache::Http::Experimental::RequestBuilder* builder)
      : builder_(builder) {}

  void Set(absl::string_view key, absl::string_view value) override;

 private:
  Pistache::Http::Experimental::RequestBuilder* builder_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_HTTP_HEADER_CARRIER_H_
