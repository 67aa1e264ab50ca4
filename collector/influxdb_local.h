// File: tracebridge/collector/influxdb_local.h
//
// Helpers for a private InfluxDB 1.x on loopback, the kind a demo or a test
// starts next to the collector: a configuration file for `influxd -config`
// that keeps everything (meta, data, WAL) under one directory and listens
// on loopback ports only (HTTP API and the backup RPC; no UDP, Graphite,
// collectd or OpenTSDB listeners, no usage reporting, no _internal
// database), a wait for readiness (`/ping`), and InfluxQL queries over the
// HTTP API with CSV answers.
//
// Example:
//
//   absl::StatusOr<int> http = tracebridge::PickFreeLoopbackPort();
//   absl::StatusOr<int> rpc = tracebridge::PickFreeLoopbackPort();
//   WriteFile(dir + "/influxdb.conf", tracebridge::LocalInfluxdConfig(dir, *http, *rpc));
//   // start: influxd -config <dir>/influxdb.conf
//   absl::Status ready = tracebridge::WaitForInfluxd(*http, absl::Now() + absl::Seconds(30));
//   absl::StatusOr<std::string> csv = tracebridge::InfluxQueryCsv(
//       *http, "tracebridge", "SELECT sum(\"count\") FROM http_server WHERE time > now() - 1m",
//       absl::Now() + absl::Seconds(5));

#ifndef TRACEBRIDGE_COLLECTOR_INFLUXDB_LOCAL_H_
#define TRACEBRIDGE_COLLECTOR_INFLUXDB_LOCAL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tracebridge {

// A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed):
// another process may take it before the caller does.
absl::StatusOr<int> PickFreeLoopbackPort();

// The text of an influxd 1.x configuration: meta, data and WAL under `dir`,
// HTTP API on 127.0.0.1:`http_port`, RPC on 127.0.0.1:`rpc_port`, every
// other listener off, reporting disabled, logging at warn.
std::string LocalInfluxdConfig(const std::string& dir, int http_port, int rpc_port);

// Waits until `GET /ping` on 127.0.0.1:`http_port` answers 204, or
// `deadline` (DeadlineExceeded with the last error).
absl::Status WaitForInfluxd(int http_port, absl::Time deadline);

// Runs `query` (InfluxQL) against `database` on 127.0.0.1:`http_port` and
// returns the CSV answer (a header line "name,tags,time,<columns>", then one
// line per row). An InfluxDB error (in a 4xx/5xx answer) is Internal with
// its text.
absl::StatusOr<std::string> InfluxQueryCsv(int http_port, const std::string& database,
                                           const std::string& query, absl::Time deadline);

// One row of a CSV answer: column name → value ("name", "tags", "time", then
// the selected columns).
using InfluxRow = std::map<std::string, std::string>;

// The rows of every result in a CSV answer (RFC 4180 quoting; values may
// span lines).
std::vector<InfluxRow> ParseInfluxCsv(const std::string& csv);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_COLLECTOR_INFLUXDB_LOCAL_H_
