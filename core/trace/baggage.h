// File: tracebridge/core/trace/baggage.h
//
// `Baggage`: W3C Baggage, application key/value pairs that travel with a
// trace. Immutable: updates return a new value; copies share one allocation.
//
// Bounds: at most 64 members and 8192 bytes of encoded header (the W3C
// limits). `Set` beyond them drops the new member whole (never truncates a
// value) and reports it; the propagator applies the same rule on extract.
// Keys are W3C tokens; values hold the percent-decoded text; properties hold
// each member's `;`-separated metadata as received (e.g. "ttl=30;secret").
//
// The byte bound counts the whole header as injection writes it: every
// member's `EncodedSize` plus one comma between members. Values should be
// UTF-8: a receiver replaces invalid sequences with U+FFFD.
//
// Example:
//
//   tracebridge::Baggage baggage = tracebridge::Baggage().Set("tenant", "acme");
//   absl::optional<absl::string_view> tenant = baggage.Get("tenant");

#ifndef TRACEBRIDGE_CORE_TRACE_BAGGAGE_H_
#define TRACEBRIDGE_CORE_TRACE_BAGGAGE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace tracebridge {

class Baggage final {
 public:
  static constexpr size_t kMaxMembers = 64;
  static constexpr size_t kMaxBytes = 8192;

  struct Entry {
    std::string key;
    std::string value;       // decoded
    std::string properties;  // raw metadata after the first ';', may be empty
    friend bool operator==(const Entry& a, const Entry& b) {
      return a.key == b.key && a.value == b.value && a.properties == b.properties;
    }
  };

  // Empty baggage.
  Baggage() noexcept = default;

  // The value of `key`, if present.
  absl::optional<absl::string_view> Get(absl::string_view key) const noexcept;

  // A copy with `key` set (replacing an existing entry in place). An invalid
  // key, or a member that would break the member or byte bound, returns an
  // unchanged copy and sets `*accepted` (when given) to false. `properties`
  // is trimmed of surrounding spaces and tabs; properties that do not follow
  // the W3C property grammar (see `IsValidProperties`) are rejected the same
  // way, since they could not be sent without corrupting the header.
  Baggage Set(absl::string_view key, absl::string_view value, absl::string_view properties = {},
              bool* accepted = nullptr) const;

  // A copy without `key`.
  Baggage Remove(absl::string_view key) const;

  bool empty() const noexcept { return entries_ == nullptr || entries_->empty(); }
  size_t size() const noexcept { return entries_ ? entries_->size() : 0; }
  const std::vector<Entry>& entries() const noexcept;

  // The encoded size of one member as the W3C header carries it
  // (`key=percent-encoded-value;properties`), without the separating comma.
  static size_t EncodedSize(const Entry& entry) noexcept;

  // W3C token grammar for keys.
  static bool IsValidKey(absl::string_view key) noexcept;

  // Addition (W3C propagators): true for `properties` made of one or more
  // `;`-separated W3C properties (`key`, or `key=value` with a baggage-octet
  // value, optional spaces and tabs around `;` and `=`), with nothing before
  // the first or after the last; true for the empty string (no properties).
  static bool IsValidProperties(absl::string_view properties) noexcept;

  // Addition (W3C propagators): true for a W3C baggage-octet (`%x21 / %x23-2B
  // / %x2D-3A / %x3C-5B / %x5D-7E`): printable ASCII except `"`, `,`, `;`
  // and `\`. Percent-encoding leaves exactly these bytes, minus `%`, as they
  // are.
  static bool IsBaggageOctet(char c) noexcept;

  // Addition (W3C propagators): the percent-encoded length of `value`.
  static size_t EncodedValueSize(absl::string_view value) noexcept;

  // Addition (W3C propagators): appends `value` percent-encoded to `*out`:
  // every byte that is not a baggage-octet, and `%` itself, becomes `%XX`
  // (uppercase hex, RFC 3986).
  static void AppendEncodedValue(absl::string_view value, std::string* out);

  friend bool operator==(const Baggage& a, const Baggage& b) noexcept {
    return a.entries() == b.entries();
  }
  friend bool operator!=(const Baggage& a, const Baggage& b) noexcept { return !(a == b); }

 private:
  explicit Baggage(std::shared_ptr<const std::vector<Entry>> entries) noexcept
      : entries_(std::move(entries)) {}
  friend class BaggageBuilder;

  std::shared_ptr<const std::vector<Entry>> entries_;
};

// Builds a `Baggage` member by member without copying it each time, applying
// the same bounds as `Baggage::Set`. Used by parsers.
class BaggageBuilder final {
 public:
  // Appends (or replaces in place, keeping its position) one member; returns
  // false when it was dropped for an invalid key or properties, or for a
  // bound. A dropped replacement keeps the earlier value.
  bool Add(std::string key, std::string value, std::string properties);
  Baggage Build() &&;
  size_t size() const noexcept { return entries_.size(); }

  // Addition (W3C propagators): members a parser skipped, so a receiver can
  // count what it did not keep instead of losing it silently.
  void CountDropped(bool over_limit) noexcept { ++(over_limit ? over_limit_ : invalid_); }
  uint32_t dropped_invalid() const noexcept { return invalid_; }
  uint32_t dropped_over_limit() const noexcept { return over_limit_; }

  // Addition (W3C propagators): whether `key` is already present, so a parser
  // can skip a member that cannot fit before copying it.
  bool Contains(absl::string_view key) const noexcept;

  // Addition (W3C propagators): the encoded header size so far (members and
  // the commas between them).
  size_t bytes() const noexcept { return bytes_; }

 private:
  std::vector<Baggage::Entry> entries_;
  size_t bytes_ = 0;
  uint32_t invalid_ = 0;
  uint32_t over_limit_ = 0;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_BAGGAGE_H_
