// File: tests/testing/otlp_receiver.cc
//
// The scripted OTLP/gRPC receiver used by the exporter tests and benchmark.

#include "tests/testing/otlp_receiver.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/internal/rpc_status.pb.h"

namespace tracebridge {
namespace testing {

namespace collector = ::opentelemetry::proto::collector::trace::v1;
namespace metrics_collector = ::opentelemetry::proto::collector::metrics::v1;

class OtlpReceiver::Service final : public collector::TraceService::Service {
 public:
  explicit Service(OtlpReceiver* owner) : owner_(owner) {}
  grpc::Status Export(grpc::ServerContext* context,
                      const collector::ExportTraceServiceRequest* request,
                      collector::ExportTraceServiceResponse* response) override {
    return owner_->Handle(context, *request, response);
  }

 private:
  OtlpReceiver* const owner_;
};

class OtlpReceiver::MetricsService final : public metrics_collector::MetricsService::Service {
 public:
  explicit MetricsService(OtlpReceiver* owner) : owner_(owner) {}
  grpc::Status Export(grpc::ServerContext* context,
                      const metrics_collector::ExportMetricsServiceRequest* request,
                      metrics_collector::ExportMetricsServiceResponse* response) override {
    return owner_->HandleMetrics(context, *request, response);
  }

 private:
  OtlpReceiver* const owner_;
};

namespace {

// A google.rpc.Status with one RetryInfo detail, serialised as gRPC sends it
// in `grpc-status-details-bin`.
std::string RetryInfoDetails(grpc::StatusCode code, const std::string& message,
                             absl::Duration delay) {
  internal::RetryInfo info;
  const int64_t seconds = absl::IDivDuration(delay, absl::Seconds(1), &delay);
  info.mutable_retry_delay()->set_seconds(seconds);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(delay)));
  internal::RpcStatus status;
  status.set_code(static_cast<int32_t>(code));
  status.set_message(message);
  internal::AnyMessage* detail = status.add_details();
  detail->set_type_url("type.googleapis.com/google.rpc.RetryInfo");
  detail->set_value(info.SerializeAsString());
  return status.SerializeAsString();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpReceiver>> OtlpReceiver::Start(OtlpReceiverOptions options) {
  std::unique_ptr<OtlpReceiver> receiver(new OtlpReceiver(options.store_requests));
  grpc::ServerBuilder builder;
  if (!options.accept_gzip) {
    // Bit i enables algorithm i; only GRPC_COMPRESS_NONE (0) stays.
    builder.AddChannelArgument(GRPC_COMPRESSION_CHANNEL_ENABLED_ALGORITHMS_BITSET,
                               1 << GRPC_COMPRESS_NONE);
  }
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &receiver->port_);
  builder.RegisterService(receiver->service_.get());
  builder.RegisterService(receiver->metrics_service_.get());
  // Large batches (the benchmark's are ~200 KiB) are within the 4 MiB default;
  // no limit to raise.
  receiver->server_ = builder.BuildAndStart();
  if (receiver->server_ == nullptr || receiver->port_ <= 0) {
    return absl::InternalError("could not start the OTLP receiver on 127.0.0.1");
  }
  return receiver;
}

OtlpReceiver::OtlpReceiver(bool store_requests)
    : store_requests_(store_requests),
      service_(std::make_unique<Service>(this)),
      metrics_service_(std::make_unique<MetricsService>(this)) {}

OtlpReceiver::~OtlpReceiver() {
  Shutdown();
  // The server has waited for every handler, but through gRPC's own
  // synchronisation, which ThreadSanitizer cannot see. Handlers notify under
  // the lock, so taking it once orders their last notify before the
  // condition variable is destroyed in a way TSan does see.
  std::lock_guard<std::mutex> lock(mutex_);
}

std::string OtlpReceiver::address() const { return absl::StrCat("127.0.0.1:", port_); }

void OtlpReceiver::Script(std::vector<OtlpReply> replies) {
  std::lock_guard<std::mutex> lock(mutex_);
  script_.assign(std::make_move_iterator(replies.begin()), std::make_move_iterator(replies.end()));
}

namespace {

std::multimap<std::string, std::string> MetadataOf(const grpc::ServerContext& context) {
  std::multimap<std::string, std::string> metadata;
  for (const auto& [key, value] : context.client_metadata()) {
    metadata.emplace(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return metadata;
}

}  // namespace

template <typename Request>
OtlpReply OtlpReceiver::Arrive(grpc::ServerContext* context, const Request& request,
                               std::vector<ReceivedCall<Request>>* calls, size_t* count) {
  const int64_t arrival = MonotonicNanosNow();
  OtlpReply reply;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!script_.empty()) {
      reply = std::move(script_.front());
      script_.pop_front();
    }
    ++*count;
    if (store_requests_) {
      ReceivedCall<Request> record;
      record.request = request;
      record.metadata = MetadataOf(*context);
      record.arrival_monotonic_nanos = arrival;
      record.answered = reply.code;
      calls->push_back(std::move(record));
    }
    changed_.notify_all();
  }
  if (reply.stall > absl::ZeroDuration()) {
    // Until the stall ends or shutdown, but not forever past the caller's
    // deadline. The margin matters: answering right at the deadline could
    // reach the client just before its own timer fires, turning a stall into
    // a success.
    const absl::Time until = std::min(absl::Now() + reply.stall,
                                      absl::FromChrono(context->deadline()) + absl::Seconds(2));
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(
        lock, absl::ToChronoNanoseconds(std::max(until - absl::Now(), absl::ZeroDuration())),
        [this] { return shutting_down_; });
  }
  return reply;
}

grpc::Status OtlpReceiver::StatusOf(const OtlpReply& reply) {
  if (reply.retry_delay.has_value()) {
    return grpc::Status(reply.code, reply.message,
                        RetryInfoDetails(reply.code, reply.message, *reply.retry_delay));
  }
  return grpc::Status(reply.code, reply.message);
}

grpc::Status OtlpReceiver::Handle(grpc::ServerContext* context,
                                  const collector::ExportTraceServiceRequest& request,
                                  collector::ExportTraceServiceResponse* response) {
  const OtlpReply reply = Arrive(context, request, &received_, &calls_);
  if (reply.code != grpc::StatusCode::OK) return StatusOf(reply);
  if (reply.rejected_spans > 0 || !reply.partial_error.empty()) {
    response->mutable_partial_success()->set_rejected_spans(reply.rejected_spans);
    response->mutable_partial_success()->set_error_message(reply.partial_error);
  }
  size_t spans = 0;
  for (const auto& resource_spans : request.resource_spans()) {
    for (const auto& scope_spans : resource_spans.scope_spans()) spans += scope_spans.spans_size();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  accepted_spans_ += spans;
  changed_.notify_all();
  return grpc::Status::OK;
}

grpc::Status OtlpReceiver::HandleMetrics(
    grpc::ServerContext* context, const metrics_collector::ExportMetricsServiceRequest& request,
    metrics_collector::ExportMetricsServiceResponse* response) {
  const OtlpReply reply = Arrive(context, request, &received_metrics_, &metrics_calls_);
  if (reply.code != grpc::StatusCode::OK) return StatusOf(reply);
  if (reply.rejected_spans > 0 || !reply.partial_error.empty()) {
    response->mutable_partial_success()->set_rejected_data_points(reply.rejected_spans);
    response->mutable_partial_success()->set_error_message(reply.partial_error);
  }
  return grpc::Status::OK;
}

std::vector<ReceivedMetricsExport> OtlpReceiver::ReceivedMetrics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_metrics_;
}

size_t OtlpReceiver::metrics_calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return metrics_calls_;
}

bool OtlpReceiver::WaitForMetricsCalls(size_t count, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return metrics_calls_ >= count; });
}

std::vector<ReceivedExport> OtlpReceiver::Received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

size_t OtlpReceiver::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

std::vector<opentelemetry::proto::trace::v1::Span> OtlpReceiver::Spans() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<opentelemetry::proto::trace::v1::Span> spans;
  for (const ReceivedExport& call : received_) {
    if (call.answered != grpc::StatusCode::OK) continue;
    for (const auto& resource_spans : call.request.resource_spans()) {
      for (const auto& scope_spans : resource_spans.scope_spans()) {
        spans.insert(spans.end(), scope_spans.spans().begin(), scope_spans.spans().end());
      }
    }
  }
  return spans;
}

size_t OtlpReceiver::span_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return accepted_spans_;
}

bool OtlpReceiver::WaitForSpans(size_t count, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return accepted_spans_ >= count; });
}

bool OtlpReceiver::WaitForCalls(size_t count, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return calls_ >= count; });
}

void OtlpReceiver::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_) return;
    shutting_down_ = true;
  }
  changed_.notify_all();
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
}

}  // namespace testing
}  // namespace tracebridge
