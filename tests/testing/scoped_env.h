// File: tests/testing/scoped_env.h
//
// `ScopedEnv`: sets an environment variable for one test, and unsets it when
// it goes out of scope, for tests of configuration read from the
// environment. Tests in one binary run one after the other, so this is safe
// as long as no thread of the test reads the environment meanwhile.
//
// Example:
//
//   tracebridge::testing::ScopedEnv interval("OTEL_METRIC_EXPORT_INTERVAL", "1500");
//   auto options = tracebridge::MetricReaderOptions::FromEnvironment();

#ifndef TRACEBRIDGE_TESTS_TESTING_SCOPED_ENV_H_
#define TRACEBRIDGE_TESTS_TESTING_SCOPED_ENV_H_

#include <stdlib.h>

namespace tracebridge {
namespace testing {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_SCOPED_ENV_H_
