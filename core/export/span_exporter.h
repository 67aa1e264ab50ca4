// File: tracebridge/core/export/span_exporter.h
//
// `SpanExporter`: where batches of ended spans leave the process (a file, a
// log, memory, an OpenTelemetry Collector). The batch processor calls
// `Export` from its own thread, one call at a time, so an exporter needs no
// locking of its own for `Export`; it must honour the deadline it is given so
// a slow backend can only make spans drop, never make requests wait.
//
// Every exporter receives the `Resource` that describes the process (its
// `service.name` and resource attributes) with each batch.
//
// Example:
//
//   class StdoutExporter : public tracebridge::SpanExporter {
//     absl::string_view Name() const override { return "stdout"; }
//     absl::Status Export(const tracebridge::Resource& resource,
//                         absl::Span<const std::unique_ptr<tracebridge::SpanData>> spans,
//                         absl::Time deadline) override { ... }
//     absl::Status Shutdown(absl::Duration timeout) override { return absl::OkStatus(); }
//   };

#ifndef TRACEBRIDGE_CORE_EXPORT_SPAN_EXPORTER_H_
#define TRACEBRIDGE_CORE_EXPORT_SPAN_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

// What produced the spans: `service.name` plus any resource attributes
// (`service.version`, `deployment.environment`, ...).
struct Resource {
  std::string service_name;
  std::vector<Attribute> attributes;
};

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;

  // A short name for diagnostics ("jsonl", "otlp", "memory", ...).
  virtual absl::string_view Name() const noexcept = 0;

  // Sends one batch. Returns OK when the backend accepted it, an error
  // otherwise (the batch is then counted as failed, not retried by the
  // caller). Must return by `deadline`. Called from one thread at a time.
  virtual absl::Status Export(const Resource& resource,
                              absl::Span<const std::unique_ptr<SpanData>> spans,
                              absl::Time deadline) = 0;

  // Flushes anything the exporter buffers itself.
  virtual absl::Status ForceFlush(absl::Duration timeout) {
    (void)timeout;
    return absl::OkStatus();
  }

  // Releases the backend; later exports fail.
  virtual absl::Status Shutdown(absl::Duration timeout) = 0;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_EXPORT_SPAN_EXPORTER_H_
