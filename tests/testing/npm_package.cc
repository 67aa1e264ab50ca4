// File: tests/testing/npm_package.cc
//
// `npm ci` of an interop peer's pinned packages into the test's temporary
// directory.

#include "tests/testing/npm_package.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/child_process.h"

namespace tracebridge {
namespace testing {
namespace {

std::string Env(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

bool CopyFile(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (!in || !out) return false;
  out << in.rdbuf();
  return static_cast<bool>(out);
}

}  // namespace

absl::StatusOr<NodePackage> PrepareNpmPackage(const std::string& package,
                                              const std::vector<std::string>& files,
                                              absl::Duration npm_timeout) {
  const std::string runfiles =
      absl::StrCat(Env("TEST_SRCDIR"), "/", Env("TEST_WORKSPACE", "tracebridge"), "/", package);
  const std::string tmp = Env("TEST_TMPDIR", "/tmp");
  NodePackage result;
  result.dir = absl::StrCat(tmp, "/", package.substr(package.rfind('/') + 1));
  mkdir(result.dir.c_str(), 0755);
  for (const std::string& file : files) {
    const std::string from = absl::StrCat(runfiles, "/", file);
    const std::string to = absl::StrCat(result.dir, "/", file.substr(file.rfind('/') + 1));
    if (!CopyFile(from, to)) return absl::NotFoundError(absl::StrCat("cannot copy ", from));
  }

  result.node = FindProgram("node");
  const std::string npm = FindProgram("npm");
  if (result.node.empty()) return absl::NotFoundError("node not found (./bazelw installs nodejs)");
  if (npm.empty()) return absl::NotFoundError("npm not found (./bazelw installs npm)");
  const std::string node_dir = result.node.substr(0, result.node.rfind('/'));
  const std::string cache = Env("TRACEBRIDGE_NPM_CACHE", "/tmp/tracebridge-npm-cache");
  // An explicit, small environment: HOME may be unset under Bazel, and npm
  // must not read a developer's ~/.npmrc. `npm` is a node script, so node's
  // directory goes first on PATH. Sanitizer options stay out: node is not
  // instrumented.
  result.env = {
      absl::StrCat("PATH=", node_dir, ":/usr/local/bin:/usr/bin:/bin"),
      absl::StrCat("HOME=", tmp),
      absl::StrCat("npm_config_cache=", cache),
      "npm_config_update_notifier=false",
      "npm_config_fund=false",
      "npm_config_audit=false",
      "NO_COLOR=1",
  };

  const absl::Time start = absl::Now();
  ProcessResult install =
      RunProgram({npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=warn"},
                 result.env, result.dir, result.dir + "/npm_ci.log", npm_timeout);
  if (install.timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("npm ci did not finish in ", absl::FormatDuration(npm_timeout),
                     " (is the npm registry reachable?):\n", install.log));
  }
  if (install.exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("npm ci failed; on a cold cache (", cache,
                                               ") it needs the npm registry:\n", install.log));
  }
  std::fprintf(stderr, "npm ci in %s took %s\n", result.dir.c_str(),
               absl::FormatDuration(absl::Now() - start).c_str());
  return result;
}

}  // namespace testing
}  // namespace tracebridge
