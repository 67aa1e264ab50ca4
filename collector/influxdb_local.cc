#include "tracebridge/collector/influxdb_local.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tracebridge/collector/influx_writer.h"
#include "tracebridge/exporters/otlp/http1_client.h"

namespace tracebridge {

absl::StatusOr<int> PickFreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("bind 127.0.0.1:0: ", std::strerror(error)));
  }
  close(fd);
  return ntohs(address.sin_port);
}

std::string LocalInfluxdConfig(const std::string& dir, int http_port, int rpc_port) {
  return absl::StrCat(
      "# A private InfluxDB on loopback (tracebridge/collector/influxdb_local.h).\n"
      "reporting-disabled = true\n"
      "bind-address = \"127.0.0.1:",
      rpc_port, "\"\n\n", "[meta]\n  dir = \"", dir, "/meta\"\n\n", "[data]\n  dir = \"", dir,
      "/data\"\n  wal-dir = \"", dir, "/wal\"\n", "  query-log-enabled = false\n\n",
      "[monitor]\n  store-enabled = false\n\n", "[subscriber]\n  enabled = false\n\n",
      "[continuous_queries]\n  enabled = false\n\n",
      "[http]\n  enabled = true\n  bind-address = \"127.0.0.1:", http_port, "\"\n",
      "  log-enabled = false\n  pprof-enabled = false\n\n",
      "[logging]\n  level = \"warn\"\n  suppress-logo = true\n");
}

absl::Status WaitForInfluxd(int http_port, absl::Time deadline) {
  absl::Status last = absl::UnavailableError("not tried");
  for (;;) {
    Http1Client client("127.0.0.1", http_port);
    absl::StatusOr<Http1Response> response =
        client.Send("GET", "/ping", {}, "", std::min(deadline, absl::Now() + absl::Seconds(2)));
    if (response.ok() && response->status == 204) return absl::OkStatus();
    last = response.ok() ? absl::UnavailableError(absl::StrCat("HTTP ", response->status))
                         : response.status();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("InfluxDB on 127.0.0.1:", http_port, " not ready: ", last.message()));
    }
    poll(nullptr, 0, 20);  // influxd gives no signal when it is ready: ask again shortly
  }
}

absl::StatusOr<std::string> InfluxQueryCsv(int http_port, const std::string& database,
                                           const std::string& query, absl::Time deadline) {
  Http1Client client("127.0.0.1", http_port);
  const std::string body =
      absl::StrCat("db=", InfluxUrlEncode(database), "&q=", InfluxUrlEncode(query));
  absl::StatusOr<Http1Response> response = client.Send(
      "POST", "/query",
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/csv"}}, body,
      deadline);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::InternalError(
        absl::StrCat("InfluxDB answered ", response->status, ": ", response->body));
  }
  return response->body;
}

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

}  // namespace tracebridge
