#include "tests/testing/influxdb.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "tracebridge/collector/influxdb_local.h"

namespace tracebridge {
namespace testing {

std::vector<InfluxRow> ParseInfluxCsv(const std::string& csv) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (size_t i = 0; i < csv.size(); ++i) {
    const char c = csv[i];
    if (quoted) {
      if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      any = false;
    } else {
      field.push_back(c);
    }
  }
  if (any || !field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  std::vector<InfluxRow> rows;
  std::vector<std::string> header;
  for (std::vector<std::string>& r : records) {
    if (r.size() == 1 && r[0].empty()) continue;  // blank line between results
    if (!r.empty() && r[0] == "name" && r.size() >= 3 && r[1] == "tags") {
      header = std::move(r);
      continue;
    }
    InfluxRow row;
    for (size_t i = 0; i < r.size() && i < header.size(); ++i) row[header[i]] = r[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

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
