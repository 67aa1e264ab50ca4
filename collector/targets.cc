#include "tracebridge/collector/targets.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracebridge {
namespace {

absl::Status CheckAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("target \"", address, "\": expected host:port"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.find(':') != absl::string_view::npos && (host.front() != '[' || host.back() != ']')) {
    return absl::InvalidArgumentError(
        absl::StrCat("target \"", address, "\": put an IPv6 address in brackets, [::1]:port"));
  }
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("target \"", address, "\": the port must be 1-65535"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CollectorTarget> ParseCollectorTarget(absl::string_view spec) {
  spec = absl::StripAsciiWhitespace(spec);
  CollectorTarget target;
  // "=" never occurs in a host:port, so the first one ends the names.
  const size_t equals = spec.find('=');
  absl::string_view address = spec;
  if (equals != absl::string_view::npos) {
    absl::string_view names = spec.substr(0, equals);
    address = spec.substr(equals + 1);
    const size_t slash = names.find('/');
    target.service = std::string(names.substr(0, slash));
    if (slash != absl::string_view::npos) target.instance = std::string(names.substr(slash + 1));
    if (target.service.empty() || (slash != absl::string_view::npos && target.instance.empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat("target \"", spec, "\": empty service or instance name"));
    }
  }
  if (absl::Status status = CheckAddress(address); !status.ok()) return status;
  target.address = std::string(address);
  if (target.instance.empty()) target.instance = target.address;
  return target;
}

absl::StatusOr<std::vector<CollectorTarget>> ReadTargetsFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read targets file ", path));
  std::vector<CollectorTarget> targets;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    absl::string_view text = line;
    if (const size_t comment = text.find(" #"); comment != absl::string_view::npos) {
      text = text.substr(0, comment);
    }
    text = absl::StripAsciiWhitespace(text);
    if (text.empty() || text.front() == '#') continue;
    absl::StatusOr<CollectorTarget> target = ParseCollectorTarget(text);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", target.status().message()));
    }
    targets.push_back(*std::move(target));
  }
  return targets;
}

}  // namespace tracebridge
