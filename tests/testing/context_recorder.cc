#include "tests/testing/context_recorder.h"

#include "tracebridge/core/trace/span.h"

namespace tracebridge {
namespace testing {

void ContextRecorder::Record(const SpanContext& span, const Baggage& baggage) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_.seen = true;
  last_.span = span;
  last_.baggage = baggage;
}

void ContextRecorder::RecordCurrent() { Record(CurrentSpan().context(), CurrentBaggage()); }

ReceivedContext ContextRecorder::Last() {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

grpc::Status RecordingEcho::Unary(grpc::ServerContext*, const EchoRequest* request,
                                  EchoResponse* response) {
  recorder_->RecordCurrent();
  response->set_message(request->message());
  return grpc::Status::OK;
}

}  // namespace testing
}  // namespace tracebridge
