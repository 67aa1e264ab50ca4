#include "tests/testing/influxdb.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "tracebridge/collector/influxdb_local.h"

namespace tracebridge {
namespace testing {

absl::StatusOr<std::unique_ptr<InfluxServer>> InfluxServer::Start(const std::string& dir) {
  if (FindProgram("influxd").empty()) return absl::NotFoundError("influxd is not installed");
  mkdir(dir.c_str(), 0755);
  // A port picked free may be taken before influxd binds it: try again.
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<int> http = PickFreeLoopbackPort();
    if (!http.ok()) return http.status();
    std::unique_ptr<InfluxServer> server(new InfluxServer(dir, *http));
    last = server->Launch();
    if (last.ok()) return server;
  }
  return last;
}

absl::Status InfluxServer::Launch() {
  absl::StatusOr<int> rpc = PickFreeLoopbackPort();
  if (!rpc.ok()) return rpc.status();
  const std::string config = dir_ + "/influxdb.conf";
  {
    std::ofstream out(config, std::ios::trunc);
    out << LocalInfluxdConfig(dir_, http_port_, *rpc);
    if (!out) return absl::InternalError("cannot write " + config);
  }
  const std::string log = absl::StrCat(dir_, "/influxd.", starts_++, ".log");
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start({FindProgram("influxd"), "-config", config},
                          {"HOME=" + dir_, "PATH=/usr/bin:/bin"}, dir_, log);
  if (!child.ok()) return child.status();
  process_ = *std::move(child);
  absl::Status ready = WaitForInfluxd(http_port_, absl::Now() + absl::Seconds(30));
  if (!ready.ok()) {
    Stop();
    return absl::UnavailableError(
        absl::StrCat(ready.message(), "; influxd log: ", ReadFileOrEmpty(log)));
  }
  return absl::OkStatus();
}

InfluxServer::~InfluxServer() { Stop(); }

void InfluxServer::Stop() {
  if (process_ == nullptr) return;
  process_->Kill();
  process_->Wait(absl::Seconds(10));
  process_.reset();
}

absl::Status InfluxServer::Restart() {
  Stop();
  return Launch();
}

absl::StatusOr<std::vector<InfluxRow>> InfluxServer::Query(const std::string& database,
                                                           const std::string& query) {
  absl::StatusOr<std::string> csv =
      InfluxQueryCsv(http_port_, database, query, absl::Now() + absl::Seconds(10));
  if (!csv.ok()) return csv.status();
  return ParseInfluxCsv(*csv);
}

}  // namespace testing
}  // namespace tracebridge
