#include "tests/testing/echo_service.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace tracebridge {
namespace testing {
namespace {

grpc::Status Requested(const EchoRequest& request) {
  if (request.status_code() == 0) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(request.status_code()),
                      "requested failure " + std::to_string(request.status_code()));
}

std::chrono::system_clock::time_point DeadlineFrom(grpc::ServerContext* context) {
  return context->deadline();
}

}  // namespace

bool WaitOrCancelled(grpc::ServerContext* context, int delay_ms) {
  // The sync API offers no cancellation callback, so poll IsCancelled in
  // short slices: this is a deliberately slow fake, bounded by `delay_ms`.
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  std::mutex mutex;
  std::condition_variable never;
  std::unique_lock<std::mutex> lock(mutex);
  while (std::chrono::steady_clock::now() < end) {
    if (context->IsCancelled()) return true;
    never.wait_for(lock, std::chrono::milliseconds(5));
  }
  return context->IsCancelled();
}

grpc::Status EchoServiceImpl::Unary(grpc::ServerContext* context, const EchoRequest* request,
                                    EchoResponse* response) {
  if (downstream_ != nullptr) {
    grpc::ClientContext downstream_context;
    downstream_context.set_deadline(DeadlineFrom(context));
    grpc::Status status = downstream_->Unary(&downstream_context, *request, response);
    if (!status.ok()) return status;
  }
  if (request->delay_ms() > 0 && WaitOrCancelled(context, request->delay_ms())) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
  response->set_message(request->message());
  return Requested(*request);
}

grpc::Status EchoServiceImpl::ClientStream(grpc::ServerContext* context,
                                           grpc::ServerReader<EchoRequest>* reader,
                                           EchoResponse* response) {
  std::vector<EchoRequest> requests;
  EchoRequest request;
  while (reader->Read(&request)) requests.push_back(request);
  if (downstream_ != nullptr) {
    grpc::ClientContext downstream_context;
    downstream_context.set_deadline(DeadlineFrom(context));
    auto writer = downstream_->ClientStream(&downstream_context, response);
    for (const EchoRequest& r : requests) writer->Write(r);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (!status.ok()) return status;
  }
  std::string joined;
  for (const EchoRequest& r : requests) joined += r.message();
  response->set_message(joined);
  return requests.empty() ? grpc::Status::OK : Requested(requests.back());
}

grpc::Status EchoServiceImpl::ServerStream(grpc::ServerContext* context, const EchoRequest* request,
                                           grpc::ServerWriter<EchoResponse>* writer) {
  if (downstream_ != nullptr) {
    grpc::ClientContext downstream_context;
    downstream_context.set_deadline(DeadlineFrom(context));
    auto reader = downstream_->ServerStream(&downstream_context, *request);
    EchoResponse response;
    while (reader->Read(&response)) {
      if (!writer->Write(response)) {
        // Our caller went away: cancel the call we made on its behalf.
        downstream_context.TryCancel();
        while (reader->Read(&response)) {
        }
        break;
      }
    }
    return reader->Finish();
  }
  for (int i = 0; i < request->count(); ++i) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    EchoResponse response;
    response.set_message(request->message() + std::to_string(i));
    if (!writer->Write(response)) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    if (request->delay_ms() > 0 && WaitOrCancelled(context, request->delay_ms())) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
  }
  return Requested(*request);
}

grpc::Status EchoServiceImpl::BidiStream(
    grpc::ServerContext* context, grpc::ServerReaderWriter<EchoResponse, EchoRequest>* stream) {
  std::unique_ptr<grpc::ClientReaderWriter<EchoRequest, EchoResponse>> downstream;
  grpc::ClientContext downstream_context;
  if (downstream_ != nullptr) {
    downstream_context.set_deadline(DeadlineFrom(context));
    downstream = downstream_->BidiStream(&downstream_context);
  }
  EchoRequest request;
  EchoRequest last;
  while (stream->Read(&request)) {
    last = request;
    EchoResponse response;
    if (downstream != nullptr) {
      if (!downstream->Write(request) || !downstream->Read(&response)) break;
    } else {
      response.set_message(request.message());
    }
    stream->Write(response);
  }
  if (downstream != nullptr) {
    downstream->WritesDone();
    grpc::Status status = downstream->Finish();
    if (!status.ok()) return status;
  }
  return Requested(last);
}

}  // namespace testing
}  // namespace tracebridge
