#include "tests/testing/traced_service.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace tracebridge {
namespace testing {

TracedServer StartTracedServer(Telemetry& telemetry, std::vector<grpc::Service*> services,
                               InstallOptions options,
                               std::function<void(grpc::ServerBuilder&)> configure) {
  TracedServer traced;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &traced.port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (configure) configure(builder);
  absl::StatusOr<Installation> installation = InstallOn(builder, telemetry, std::move(options));
  if (!installation.ok()) {
    // Nothing the test could go on with: say why, loudly.
    std::fprintf(stderr, "StartTracedServer: %s\n", installation.status().ToString().c_str());
    std::abort();
  }
  traced.installation = std::move(*installation);
  traced.server = builder.BuildAndStart();
  return traced;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             absl::ToChronoNanoseconds(timeout));
}

bool PollUntil(const std::function<bool()>& ready, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::mutex mutex;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(mutex);
  while (!ready()) {
    if (absl::Now() >= deadline) return false;
    // A timed wait between polls of state that has no notification of its own.
    never.wait_for(lock, std::chrono::milliseconds(2));
  }
  return true;
}

std::vector<SpanData> WaitForTrace(Telemetry& telemetry, const TraceId& trace_id, size_t count,
                                   absl::Duration timeout) {
  std::vector<SpanData> spans;
  PollUntil(
      [&] {
        spans.clear();
        for (const StoredSpan& stored : telemetry.span_store()->FindTrace(trace_id)) {
          spans.push_back(*stored.span);
        }
        return spans.size() >= count;
      },
      timeout);
  return spans;
}

SeriesSnapshot WaitForSeries(Telemetry& telemetry, Side side, const std::string& service,
                             const std::string& method, uint64_t handled, absl::Duration timeout) {
  SeriesSnapshot found;
  PollUntil(
      [&] {
        for (SeriesSnapshot& series : telemetry.metrics().Snapshot().series) {
          if (series.protocol == Protocol::kGrpc && series.side == side &&
              series.scope == service && series.name == method && series.Handled() >= handled) {
            found = std::move(series);
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

const SpanData* FindSpan(const std::vector<SpanData>& spans, const std::string& name,
                         SpanKind kind) {
  for (const SpanData& span : spans) {
    if (span.name == name && span.kind == kind) return &span;
  }
  return nullptr;
}

}  // namespace testing
}  // namespace tracebridge
