// File: tracebridge/core/trace/span_processor.h
//
// `SpanProcessor`: where a sampled span goes when it ends. The tracer calls
// `OnEnd` on the thread that ended the span, so implementations must return
// promptly and never block on I/O; a batching processor queues and exports on
// its own thread.

#ifndef TRACEBRIDGE_CORE_TRACE_SPAN_PROCESSOR_H_
#define TRACEBRIDGE_CORE_TRACE_SPAN_PROCESSOR_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;

  // Takes ownership of an ended span. Never blocks, never throws.
  virtual void OnEnd(std::unique_ptr<SpanData> span) noexcept = 0;

  // Exports everything received so far. OK when done within `timeout`,
  // DeadlineExceeded when not, another error when the export failed.
  virtual absl::Status ForceFlush(absl::Duration timeout) = 0;

  // Flushes, then stops: spans ended afterwards are dropped (and counted).
  virtual absl::Status Shutdown(absl::Duration timeout) = 0;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_SPAN_PROCESSOR_H_
