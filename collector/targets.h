// File: tracebridge/collector/targets.h
//
// The services a collector polls: each is the address of a service's
// `tracebridge.v1.Query` (the admin listener's gRPC port), optionally with
// the service's name and an instance name:
//
//   127.0.0.1:7001                  service name from the service itself,
//                                   instance = the address
//   orders=127.0.0.1:7001           service "orders", instance = the address
//   orders/orders-a=127.0.0.1:7001  service "orders", instance "orders-a"
//   [::1]:7001                      IPv6 literals in brackets
//
// A targets file holds one target a line; blank lines and lines starting
// with `#` are ignored, and so is anything after ` #`.
//
// Example:
//
//   absl::StatusOr<std::vector<tracebridge::CollectorTarget>> targets =
//       tracebridge::ReadTargetsFile("/etc/tracebridge/targets");

#ifndef TRACEBRIDGE_COLLECTOR_TARGETS_H_
#define TRACEBRIDGE_COLLECTOR_TARGETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracebridge {

struct CollectorTarget {
  // gRPC target, "host:port".
  std::string address;
  // Empty: the name the service reports (GetMetricsResponse.service_name).
  std::string service;
  // Never empty after parsing: the address unless named.
  std::string instance;
};

// One target in the syntax above; InvalidArgument naming what is wrong (no
// port, a port outside 1-65535, an empty name).
absl::StatusOr<CollectorTarget> ParseCollectorTarget(absl::string_view spec);

// Every target in `path` (see the file comment); the error names the line.
absl::StatusOr<std::vector<CollectorTarget>> ReadTargetsFile(const std::string& path);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_COLLECTOR_TARGETS_H_
