#include "tracebridge/core/propagation/propagators.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tracebridge/core/propagation/b3_propagator.h"
#include "tracebridge/core/propagation/composite_propagator.h"
#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"
#include "tracebridge/core/propagation/jaeger_propagator.h"
#include "tracebridge/core/propagation/w3c_propagators.h"
#include "tracebridge/core/propagation/xtrace_propagator.h"

namespace tracebridge {
namespace {

// One known name: a new propagator, or an error naming the unknown entry.
// `name` is lowercase; `as_written` is how the list spelled it, for errors.
absl::StatusOr<std::unique_ptr<Propagator>> MakeOne(const std::string& name,
                                                    absl::string_view as_written) {
  if (name == "b3") return std::make_unique<B3Propagator>(B3Propagator::Encoding::kSingle);
  if (name == "b3multi") return std::make_unique<B3Propagator>(B3Propagator::Encoding::kMulti);
  if (name == "jaeger") return std::make_unique<JaegerPropagator>();
  if (name == "grpc-trace-bin") return std::make_unique<GrpcTraceBinPropagator>();
  if (name == "xtrace") return std::make_unique<XTracePropagator>();
  if (name == "tracecontext") return std::make_unique<TraceContextPropagator>();
  if (name == "baggage") return std::make_unique<BaggagePropagator>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown propagator \"", as_written,
      "\" (known: tracecontext, baggage, b3, b3multi, jaeger, grpc-trace-bin, xtrace, none)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Propagator>> MakePropagators(absl::string_view list) {
  // (lowercase name, as written) per distinct entry, in order.
  std::vector<std::pair<std::string, absl::string_view>> names;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    const absl::string_view as_written = absl::StripAsciiWhitespace(entry);
    std::string name = absl::AsciiStrToLower(as_written);
    if (name.empty()) continue;
    bool repeated = false;
    for (const auto& seen : names) repeated = repeated || seen.first == name;
    if (!repeated) names.emplace_back(std::move(name), as_written);
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("propagator list \"", list, "\" names no propagator (use \"none\")"));
  }

  std::vector<std::unique_ptr<Propagator>> propagators;
  for (const auto& [name, as_written] : names) {
    if (name == "none") {
      if (names.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("propagator \"none\" cannot be combined with others in \"", list, "\""));
      }
      continue;
    }
    absl::StatusOr<std::unique_ptr<Propagator>> one = MakeOne(name, as_written);
    if (!one.ok()) return one.status();
    propagators.push_back(*std::move(one));
  }
  return std::unique_ptr<Propagator>(std::make_unique<CompositePropagator>(std::move(propagators)));
}

}  // namespace tracebridge
