// File: tests/testing/influxdb.h
//
// A real InfluxDB 1.x (Debian's `influxd`) for tests: started in a process
// group of its own with a generated configuration (meta, data and WAL under
// a directory of the test's, HTTP API and RPC on free loopback ports, no
// other listener), ready when `/ping` answers, killed with its group when the
// fixture goes (or at `Stop`). `Restart` brings it back on the same ports
// and data, for outage tests.
//
// Example:
//
//   auto influx = InfluxServer::Start(TestTempDir() + "/influx");
//   ASSERT_TRUE(influx.ok()) << influx.status();
//   auto rows = (*influx)->Query("db", "SELECT count(\"up\") FROM up");

#ifndef TRACEBRIDGE_TESTS_TESTING_INFLUXDB_H_
#define TRACEBRIDGE_TESTS_TESTING_INFLUXDB_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/child_process.h"
#include "tracebridge/collector/influxdb_local.h"

namespace tracebridge {
namespace testing {

using InfluxRow = ::tracebridge::InfluxRow;

class InfluxServer {
 public:
  // NotFound when influxd is not installed; otherwise the start's error.
  static absl::StatusOr<std::unique_ptr<InfluxServer>> Start(const std::string& dir);
  ~InfluxServer();

  int http_port() const { return http_port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }

  // Kills influxd (SIGKILL to its group: a crash, nothing flushed on the
  // way out) and reaps it.
  void Stop();
  // Starts it again on the same ports and directory and waits for /ping.
  absl::Status Restart();

  // InfluxQL `query` in `database`; rows of every result.
  absl::StatusOr<std::vector<InfluxRow>> Query(const std::string& database,
                                               const std::string& query);

 private:
  InfluxServer(std::string dir, int http_port) : dir_(std::move(dir)), http_port_(http_port) {}
  absl::Status Launch();

  const std::string dir_;
  const int http_port_;
  std::unique_ptr<ChildProcess> process_;
  int starts_ = 0;
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_INFLUXDB_H_
