// File: core/w3c_propagators.cc
//
// W3C Trace Context and Baggage propagators. The traceparent path works on
// fixed-size stack buffers only; the baggage path copies a member only after
// it has been validated and found to fit.

#include "tracebridge/core/propagation/w3c_propagators.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/base/internal/endian.h"
#include "tracebridge/core/trace/hex.h"
#include "tracebridge/core/trace/trace_state.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

// Offsets in a traceparent value.
constexpr size_t kVersionEnd = 2;
constexpr size_t kTraceIdBegin = 3;
constexpr size_t kSpanIdBegin = kTraceIdBegin + TraceId::kHexSize + 1;  // 36
constexpr size_t kFlagsBegin = kSpanIdBegin + SpanId::kHexSize + 1;     // 53

// The only flags version 00 defines.
constexpr uint8_t kKnownFlags = TraceFlags::kSampled | TraceFlags::kRandom;

constexpr absl::string_view kTraceContextFields[] = {TraceContextPropagator::kTraceparent,
                                                     TraceContextPropagator::kTracestate};
constexpr absl::string_view kBaggageFields[] = {BaggagePropagator::kBaggage};

bool IsOws(char c) { return c == ' ' || c == '\t'; }

absl::string_view TrimOws(absl::string_view text) {
  while (!text.empty() && IsOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOws(text.back())) text.remove_suffix(1);
  return text;
}

// Value of a hex digit in either case, or -1; percent-encoding is
// case-insensitive (RFC 3986), unlike the traceparent grammar.
int AnyCaseHexValue(char c) {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return hex::DigitValue(c);
}

// Lowercase hex digit values; every other byte maps to kBadDigit, whose high
// bit survives OR-ing, so a whole field is checked with one test at the end.
constexpr uint8_t kBadDigit = 0xF0;

struct HexTable {
  uint8_t value[256];
  constexpr HexTable() : value() {
    for (int i = 0; i < 256; ++i) value[i] = kBadDigit;
    for (int i = 0; i < 10; ++i) value['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i) value['a' + i] = static_cast<uint8_t>(10 + i);
  }
};
constexpr HexTable kLowerHex;

// Decodes 2 * `size` lowercase hex digits from `text` into `out`; returns
// non-zero (with `out` meaningless) when any digit was not lowercase hex.
inline uint8_t DecodeLowerHex(const char* text, size_t size, uint8_t* out) {
  uint8_t bad = 0;
  for (size_t i = 0; i < size; ++i) {
    const uint8_t hi = kLowerHex.value[static_cast<uint8_t>(text[2 * i])];
    const uint8_t lo = kLowerHex.value[static_cast<uint8_t>(text[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>((hi << 4) | (lo & 0x0F));
  }
  return bad & kBadDigit;
}

// Decodes 8 lowercase hex digits at `text` into 4 bytes, returned in memory
// order (store them with absl::little_endian::Store32), working on all eight
// digits at once in a 64-bit word (SWAR): the ids are 48 of the 50 digits of
// a traceparent, and a byte-at-a-time loop was most of the parse cost. ORs
// a non-zero value into `*bad` when any digit is not lowercase hex.
inline uint32_t DecodeLowerHex8(const char* text, uint64_t* bad) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t x = absl::little_endian::Load64(text);
  // With every byte below 0x80, adding c per byte cannot carry across bytes,
  // and bit 7 of (b + 0x80 - k) tells b >= k.
  const uint64_t digit = (x + kOnes * (0x80 - '0')) & ~(x + kOnes * (0x80 - '9' - 1));
  const uint64_t alpha = (x + kOnes * (0x80 - 'a')) & ~(x + kOnes * (0x80 - 'f' - 1));
  *bad |= (x | ~(digit | alpha)) & kHigh;
  // Nibble values: the low four bits, plus 9 for 'a'..'f'.
  const uint64_t nibbles = (x & (kOnes * 0x0F)) + ((alpha & kHigh) >> 7) * 9;
  // Byte 2i becomes (digit 2i << 4) | digit 2i+1; then gather those bytes.
  uint64_t packed = ((nibbles << 4) | (nibbles >> 8)) & 0x00FF00FF00FF00FFULL;
  packed = (packed | (packed >> 8)) & 0x0000FFFF0000FFFFULL;
  return static_cast<uint32_t>(packed | (packed >> 16));
}

// Adds one OWS-trimmed, non-empty list-member, or counts it as dropped when
// malformed or when it cannot fit.
void AddBaggageMember(absl::string_view member, BaggageBuilder* builder) {
  const auto invalid = [builder] { builder->CountDropped(/*over_limit=*/false); };
  const auto over_limit = [builder] { builder->CountDropped(/*over_limit=*/true); };
  const size_t semicolon = member.find(';');
  const absl::string_view key_value = member.substr(0, semicolon);
  absl::string_view properties;
  if (semicolon != absl::string_view::npos) {
    properties = TrimOws(member.substr(semicolon + 1));
    if (properties.empty()) return invalid();  // `;` must introduce a property
  }
  const size_t eq = key_value.find('=');
  if (eq == absl::string_view::npos) return invalid();
  const absl::string_view key = TrimOws(key_value.substr(0, eq));
  const absl::string_view raw_value = TrimOws(key_value.substr(eq + 1));
  if (!Baggage::IsValidKey(key)) return invalid();
  for (char c : raw_value) {
    if (!Baggage::IsBaggageOctet(c)) return invalid();
  }
  if (!Baggage::IsValidProperties(properties)) return invalid();
  // Everything but the value counts byte for byte; a member whose key and
  // properties alone exceed the bound can never fit.
  const size_t fixed = key.size() + 1 + (properties.empty() ? 0 : 1 + properties.size());
  if (fixed > Baggage::kMaxBytes) return over_limit();
  if (builder->size() >= Baggage::kMaxMembers && !builder->Contains(key)) return over_limit();
  std::string value;
  // Each decoded byte re-encodes to at least one byte, so a value decoding to
  // more than this cannot fit either.
  if (!DecodeBaggageValue(raw_value, Baggage::kMaxBytes - fixed, &value)) return over_limit();
  if (!builder->Add(std::string(key), std::move(value), std::string(properties))) over_limit();
}

}  // namespace

bool ParseTraceparent(absl::string_view value, TraceId* trace_id, SpanId* span_id,
                      TraceFlags* flags) noexcept {
  if (value.size() < kTraceparentSize) return false;
  if (IsOws(value.front()) || IsOws(value.back())) {
    value = TrimOws(value);
    if (value.size() < kTraceparentSize) return false;
  }
  const char* text = value.data();
  if (text[kVersionEnd] != '-' || text[kSpanIdBegin - 1] != '-' || text[kFlagsBegin - 1] != '-') {
    return false;
  }
  // Decode every field before judging any: one branch for all 50 digits.
  uint64_t bad = 0;
  uint32_t trace_words[4];
  for (int i = 0; i < 4; ++i) trace_words[i] = DecodeLowerHex8(text + kTraceIdBegin + 8 * i, &bad);
  const uint32_t span_high = DecodeLowerHex8(text + kSpanIdBegin, &bad);
  const uint32_t span_low = DecodeLowerHex8(text + kSpanIdBegin + 8, &bad);
  uint8_t version;
  uint8_t flag_bits;
  bad |= DecodeLowerHex(text, 1, &version) | DecodeLowerHex(text + kFlagsBegin, 1, &flag_bits);
  if (bad != 0 || version == 0xff) return false;
  if (version == 0) {
    if (value.size() != kTraceparentSize) return false;
  } else if (value.size() > kTraceparentSize && text[kTraceparentSize] != '-') {
    // A future version may append fields, always after a `-`.
    return false;
  }
  if ((trace_words[0] | trace_words[1] | trace_words[2] | trace_words[3]) == 0 ||
      (span_high | span_low) == 0) {
    return false;  // all-zero ids are invalid
  }
  uint8_t trace_bytes[TraceId::kSize];
  uint8_t span_bytes[SpanId::kSize];
  for (int i = 0; i < 4; ++i) absl::little_endian::Store32(trace_bytes + 4 * i, trace_words[i]);
  absl::little_endian::Store32(span_bytes, span_high);
  absl::little_endian::Store32(span_bytes + 4, span_low);
  *trace_id = TraceId::FromBytes(trace_bytes);
  *span_id = SpanId::FromBytes(span_bytes);
  *flags = TraceFlags(flag_bits);
  return true;
}

void FormatTraceparent(const SpanContext& context, char (&out)[kTraceparentSize]) noexcept {
  out[0] = '0';
  out[1] = '0';
  out[kVersionEnd] = '-';
  hex::Encode(context.trace_id().bytes().data(), TraceId::kSize, out + kTraceIdBegin);
  out[kSpanIdBegin - 1] = '-';
  hex::Encode(context.span_id().bytes().data(), SpanId::kSize, out + kSpanIdBegin);
  out[kFlagsBegin - 1] = '-';
  const uint8_t bits = context.trace_flags().bits() & kKnownFlags;
  hex::Encode(&bits, 1, out + kFlagsBegin);
}

bool DecodeBaggageValue(absl::string_view encoded, size_t max_size, std::string* out) {
  out->clear();
  if (encoded.find('%') == absl::string_view::npos) {
    // Nothing to decode. Baggage-octets are ASCII, so this is valid UTF-8;
    // any other byte is copied as is and repaired below.
    if (encoded.size() > max_size) return false;
    bool ascii = true;
    for (char c : encoded) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (ascii) {
      out->assign(encoded.data(), encoded.size());
      return true;
    }
  }
  std::string decoded;
  decoded.reserve(encoded.size() < max_size ? encoded.size() : max_size);
  for (size_t i = 0; i < encoded.size(); ++i) {
    // Sanitizing never shrinks the text (each replaced subsequence is at most
    // three bytes), so exceeding the bound here is final.
    if (decoded.size() == max_size) return false;
    char c = encoded[i];
    if (c == '%' && encoded.size() - i >= 3) {
      const int hi = AnyCaseHexValue(encoded[i + 1]);
      const int lo = AnyCaseHexValue(encoded[i + 2]);
      if ((hi | lo) >= 0) {
        c = static_cast<char>((hi << 4) | lo);
        i += 2;
      }
    }
    decoded.push_back(c);
  }
  if (IsValidUtf8(decoded)) {
    *out = std::move(decoded);
    return true;
  }
  // Repair may grow the value (one byte can become three): the bound holds
  // for what would be kept.
  std::string repaired = ValidUtf8Copy(decoded);
  if (repaired.size() > max_size) return false;
  *out = std::move(repaired);
  return true;
}

void AppendBaggageMembers(absl::string_view header, BaggageBuilder* builder) {
  while (true) {
    const size_t comma = header.find(',');
    const absl::string_view member = TrimOws(header.substr(0, comma));
    if (!member.empty()) AddBaggageMember(member, builder);
    if (comma == absl::string_view::npos) return;
    header.remove_prefix(comma + 1);
  }
}

bool ParseBaggageHeader(absl::string_view header, Baggage* out) {
  BaggageBuilder builder;
  AppendBaggageMembers(header, &builder);
  if (builder.size() == 0) return false;
  *out = std::move(builder).Build();
  return true;
}

std::string FormatBaggageHeader(const Baggage& baggage) {
  // Measured first, so the header is allocated once.
  size_t total = 0;
  for (const Baggage::Entry& entry : baggage.entries()) total += Baggage::EncodedSize(entry) + 1;
  std::string header;
  header.reserve(total < Baggage::kMaxBytes ? total : Baggage::kMaxBytes);
  size_t members = 0;
  for (const Baggage::Entry& entry : baggage.entries()) {
    const size_t separator = header.empty() ? 0 : 1;
    if (members == Baggage::kMaxMembers ||
        header.size() + separator + Baggage::EncodedSize(entry) > Baggage::kMaxBytes) {
      continue;  // whole members only; later smaller ones may still fit
    }
    if (separator != 0) header.push_back(',');
    header.append(entry.key);
    header.push_back('=');
    Baggage::AppendEncodedValue(entry.value, &header);
    if (!entry.properties.empty()) {
      header.push_back(';');
      header.append(entry.properties);
    }
    ++members;
  }
  return header;
}

absl::string_view TraceContextPropagator::Name() const noexcept { return "tracecontext"; }

void TraceContextPropagator::Extract(const CarrierReader& carrier,
                                     PropagatedContext* context) const {
  absl::string_view traceparent;
  size_t count = 0;
  carrier.ForEachValue(kTraceparent, [&](absl::string_view value) {
    if (count++ == 0) traceparent = value;
    return count < 2;  // a second value already decides: no parent
  });
  if (count != 1) return;
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  if (!ParseTraceparent(traceparent, &trace_id, &span_id, &flags)) return;
  TraceState trace_state;
  TraceStateParser parser;
  bool any_tracestate = false;
  carrier.ForEachValue(kTracestate, [&](absl::string_view value) {
    any_tracestate = true;
    return parser.Add(value);
  });
  // An invalid tracestate is dropped; the parent still applies.
  if (any_tracestate) std::move(parser).Finish(&trace_state);
  context->span_context =
      SpanContext(trace_id, span_id, flags, /*is_remote=*/true, std::move(trace_state));
}

void TraceContextPropagator::Inject(const PropagatedContext& context,
                                    CarrierWriter* carrier) const {
  const SpanContext& span_context = context.span_context;
  if (!span_context.IsValid()) return;
  char traceparent[kTraceparentSize];
  FormatTraceparent(span_context, traceparent);
  carrier->Set(kTraceparent, absl::string_view(traceparent, kTraceparentSize));
  if (span_context.trace_state().empty()) return;
  char tracestate[TraceState::kMaxHeaderSize];
  const absl::string_view header = span_context.trace_state().WriteHeader(tracestate);
  if (!header.empty()) carrier->Set(kTracestate, header);
}

absl::Span<const absl::string_view> TraceContextPropagator::Fields() const noexcept {
  return kTraceContextFields;
}

absl::string_view BaggagePropagator::Name() const noexcept { return "baggage"; }

void BaggagePropagator::Extract(const CarrierReader& carrier, PropagatedContext* context) const {
  BaggageBuilder builder;
  carrier.ForEachValue(kBaggage, [&](absl::string_view value) {
    AppendBaggageMembers(value, &builder);
    return true;
  });
  context->baggage_dropped_invalid += builder.dropped_invalid();
  context->baggage_dropped_over_limit += builder.dropped_over_limit();
  if (builder.size() == 0) return;
  context->baggage = std::move(builder).Build();
}

void BaggagePropagator::Inject(const PropagatedContext& context, CarrierWriter* carrier) const {
  if (context.baggage.empty()) return;
  const std::string header = FormatBaggageHeader(context.baggage);
  if (!header.empty()) carrier->Set(kBaggage, header);
}

absl::Span<const absl::string_view> BaggagePropagator::Fields() const noexcept {
  return kBaggageFields;
}

}  // namespace tracebridge
