// File: tests/testing/context_recorder.h
//
// What a receiving handler ran in, for tests of what crossed a connection:
// `ContextRecorder` keeps the current span's context and baggage of the last
// request a handler recorded, and `RecordingEcho` is a gRPC Echo leaf whose
// Unary handler records into one.

#ifndef TRACEBRIDGE_TESTS_TESTING_CONTEXT_RECORDER_H_
#define TRACEBRIDGE_TESTS_TESTING_CONTEXT_RECORDER_H_

#include <mutex>

#include "tests/echo/echo.grpc.pb.h"
#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {
namespace testing {

// One handler's view of its request.
struct ReceivedContext {
  bool seen = false;
  SpanContext span;
  Baggage baggage;
};

// Thread-safe: handlers record on the server's threads, the test reads.
class ContextRecorder {
 public:
  void Record(const SpanContext& span, const Baggage& baggage);
  // The span context and baggage current in the calling handler.
  void RecordCurrent();
  // The last recorded request (`seen` false when none was).
  ReceivedContext Last();

 private:
  std::mutex mutex_;
  ReceivedContext last_;
};

// An Echo leaf: Unary records the current context and echoes the message.
class RecordingEcho final : public Echo::Service {
 public:
  explicit RecordingEcho(ContextRecorder* recorder) : recorder_(recorder) {}
  grpc::Status Unary(grpc::ServerContext* context, const EchoRequest* request,
                     EchoResponse* response) override;

 private:
  ContextRecorder* recorder_;
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_CONTEXT_RECORDER_H_
