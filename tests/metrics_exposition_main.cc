// Writes the exposition of the realistic metrics mix to stdout, for the
// conformance tests that feed it to promtool, the Prometheus client parser
// and a JSON parser.
//
//   metrics_exposition prometheus | /usr/bin/promtool check metrics
//   metrics_exposition prometheus grpc_prometheus   (another naming)
//   metrics_exposition openmetrics > om.txt
//   metrics_exposition json | /usr/bin/python3 -m json.tool

#include <cstdio>
#include <string>

#include "tests/testing/metrics_fixture.h"
#include "tracebridge/core/metrics/metrics_json.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/metrics/prometheus.h"
#include "tracebridge/core/metrics/registry.h"

int main(int argc, char** argv) {
  const std::string mode = argc >= 2 ? argv[1] : "";
  tracebridge::RegistryOptions options;
  if (argc == 3) {
    absl::StatusOr<tracebridge::MetricsNaming> naming = tracebridge::ParseMetricsNaming(argv[2]);
    if (!naming.ok()) {
      std::fprintf(stderr, "%s\n", naming.status().ToString().c_str());
      return 2;
    }
    options.naming = *naming;
  }
  if ((mode != "prometheus" && mode != "openmetrics" && mode != "json") || argc > 3) {
    std::fprintf(stderr, "usage: %s prometheus|openmetrics|json [otel|grpc_prometheus]\n", argv[0]);
    return 2;
  }
  tracebridge::Registry registry(options);
  tracebridge::testing::RecordRealisticMix(&registry);
  const tracebridge::MetricsSnapshot snapshot = registry.Snapshot();
  const std::string text = mode == "json" ? tracebridge::EncodeJson(snapshot, "orders \"gateway\"")
                           : mode == "openmetrics" ? tracebridge::EncodeOpenMetrics(snapshot)
                                                   : tracebridge::EncodePrometheus(snapshot);
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
