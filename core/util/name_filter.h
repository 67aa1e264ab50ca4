// File: tracebridge/core/util/name_filter.h
//
// Name patterns, and the filter both doors use to leave some operations
// untraced (a gRPC server leaves out `/grpc.health.v1.Health/*`, an HTTP
// front-end its `/metrics`). One pattern language serves the gRPC method
// filter, the HTTP route filter and the rule-based sampler, so a pattern
// means the same wherever it is written:
//
//   "/healthz"     exactly this name
//   "/traces/*"    every name starting with "/traces/" (a trailing '*' is a
//                  prefix match; no other character is special)
//   "*"            every name
//
// HTTP routes are matched as their templates ("/traces/:trace_id"), gRPC
// methods as full names ("/pkg.Service/Method").
//
// Example:
//
//   tracebridge::NameFilter filter{{"/metrics", "/traces/*"}};
//   filter.Excludes("/traces/:trace_id");  // true
//   filter.Excludes("/orders/:id");        // false

#ifndef TRACEBRIDGE_CORE_UTIL_NAME_FILTER_H_
#define TRACEBRIDGE_CORE_UTIL_NAME_FILTER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tracebridge {

// True when `name` matches `pattern` (see the file comment). An empty
// pattern matches nothing.
bool MatchesNamePattern(absl::string_view pattern, absl::string_view name) noexcept;

// Which operations a door leaves untraced.
struct NameFilter {
  // Patterns of the operations not to trace.
  std::vector<std::string> excluded;
  // Excluded operations are still counted in the metrics when true.
  bool count_excluded = false;

  // True when `name` matches an entry of `excluded`.
  bool Excludes(absl::string_view name) const noexcept;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_NAME_FILTER_H_
