// Fuzz target for the W3C Baggage header parser and formatter.
//
// Properties checked on every input:
// - accepted baggage has at most 64 members, valid keys and properties, and
//   formats to at most 8192 bytes;
// - parse -> format -> parse gives equal Baggage;
// - the propagator agrees with the bare parser and leaves the context alone
//   when nothing is accepted.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/w3c_propagators.h"
#include "tracebridge/core/trace/baggage.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tracebridge;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  Baggage baggage;
  const bool accepted = ParseBaggageHeader(input, &baggage);
  Check(accepted == !baggage.empty());
  if (accepted) {
    Check(baggage.size() <= Baggage::kMaxMembers);
    for (const Baggage::Entry& entry : baggage.entries()) {
      Check(Baggage::IsValidKey(entry.key));
      Check(Baggage::IsValidProperties(entry.properties));
    }
    const std::string header = FormatBaggageHeader(baggage);
    Check(header.size() <= Baggage::kMaxBytes);
    Baggage reparsed;
    Check(ParseBaggageHeader(header, &reparsed));
    Check(reparsed == baggage);
    Check(FormatBaggageHeader(reparsed) == header);
  }

  VectorCarrier carrier;
  carrier.Add("baggage", std::string(input));
  PropagatedContext context;
  context.baggage = Baggage().Set("keep", "1");
  const Baggage before = context.baggage;
  BaggagePropagator().Extract(carrier, &context);
  Check(context.baggage == (accepted ? baggage : before));
  return 0;
}
