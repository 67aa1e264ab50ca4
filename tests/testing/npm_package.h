// File: tests/testing/npm_package.h
//
// Installs the pinned npm packages of a Node.js interop peer.
//
// `PrepareNpmPackage` copies a package directory's files from the runfiles
// into $TEST_TMPDIR and runs `npm ci` there against the committed
// package-lock.json, with a persistent cache (TRACEBRIDGE_NPM_CACHE, default
// /tmp/tracebridge-npm-cache) so reruns do not touch the registry. On a cold
// cache the npm registry must be reachable; if it is not, the error says so
// and the test fails rather than passing silently.
//
// Example:
//
//   absl::StatusOr<NodePackage> package = PrepareNpmPackage(
//       "tests/interop/node_grpc", {"package.json", "package-lock.json", "peer.js"});
//   ASSERT_TRUE(package.ok()) << package.status();
//   ProcessResult run = RunProgram({package->node, "peer.js"}, package->env, package->dir,
//                                  package->dir + "/peer.log", absl::Minutes(1));

#ifndef TRACEBRIDGE_TESTS_TESTING_NPM_PACKAGE_H_
#define TRACEBRIDGE_TESTS_TESTING_NPM_PACKAGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/child_process.h"

namespace tracebridge {
namespace testing {

// An installed npm package directory and how to run node in it.
struct NodePackage {
  std::string dir;               // under $TEST_TMPDIR, node_modules installed
  std::string node;              // the node binary
  std::vector<std::string> env;  // a small explicit environment for node and npm
};

// Copies `files` of the runfiles directory `package` (workspace-relative,
// e.g. "tests/interop/otlp_js") into $TEST_TMPDIR/<last path element>, and
// runs `npm ci` there with a deadline of `npm_timeout`. The error names the
// likely cause (node or npm missing, registry unreachable on a cold cache).
absl::StatusOr<NodePackage> PrepareNpmPackage(const std::string& package,
                                              const std::vector<std::string>& files,
                                              absl::Duration npm_timeout = absl::Minutes(5));

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_NPM_PACKAGE_H_
