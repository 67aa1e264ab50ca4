#include "tests/testing/test_telemetry.h"

#include <cstdio>
#include <cstdlib>

namespace tracebridge {
namespace testing {

std::string TestTempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

std::unique_ptr<Telemetry> MakeTestTelemetry(const std::string& name,
                                             const std::string& propagators,
                                             std::function<void(TelemetryBuilder&)> configure) {
  TelemetryBuilder builder;
  builder.SetServiceName(name)
      .SetPropagators(propagators)
      .UseSimpleProcessor()
      .SetDefaultSpanFile(TestTempDir() + "/" + name + ".jsonl");
  if (configure) configure(builder);
  auto telemetry = builder.Build();
  if (!telemetry.ok()) {
    std::fprintf(stderr, "MakeTestTelemetry(%s): %s\n", name.c_str(),
                 telemetry.status().ToString().c_str());
    std::abort();
  }
  return std::move(*telemetry);
}

uint64_t StatusCountOf(const SeriesSnapshot& series, int code) {
  for (const StatusCount& status : series.statuses) {
    if (status.code == code) return status.count;
  }
  return 0;
}

}  // namespace testing
}  // namespace tracebridge
