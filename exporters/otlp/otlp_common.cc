// File: exporters/otlp/otlp_common.cc

#include "tracebridge/exporters/otlp/otlp_common.h"

#include <string>

#include "absl/types/variant.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracebridge {
namespace {

namespace common = ::opentelemetry::proto::common::v1;

struct AnyValueSetter {
  common::AnyValue* out;
  void operator()(const std::string& v) const { out->set_string_value(v); }
  void operator()(int64_t v) const { out->set_int_value(v); }
  void operator()(double v) const { out->set_double_value(v); }
  void operator()(bool v) const { out->set_bool_value(v); }
};

// Both signals' responses hold a `partial_success` with a count of rejected
// items (named for the signal) and a message.
template <typename Response, typename RejectedCount>
void ParsePartialSuccess(absl::string_view body, RejectedCount count, int64_t* rejected,
                         std::string* message) {
  Response response;
  if (!response.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      !response.has_partial_success()) {
    return;
  }
  *rejected = count(response.partial_success());
  *message = response.partial_success().error_message();
}

}  // namespace

void AddOtlpAttribute(const Attribute& attribute,
                      google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  common::KeyValue* kv = out->Add();
  kv->set_key(attribute.key);
  absl::visit(AnyValueSetter{kv->mutable_value()}, attribute.value);
}

void FillOtlpResource(const Resource& resource, opentelemetry::proto::resource::v1::Resource* out) {
  auto* attributes = out->mutable_attributes();
  attributes->Reserve(static_cast<int>(resource.attributes.size() + 1));
  // `service_name` is authoritative: a `service.name` among the attributes
  // only counts when it is empty (OTLP keys must be unique).
  const Attribute* service_attribute = nullptr;
  for (const Attribute& attribute : resource.attributes) {
    if (attribute.key == "service.name") service_attribute = &attribute;
  }
  if (!resource.service_name.empty() || service_attribute == nullptr) {
    common::KeyValue* kv = attributes->Add();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(resource.service_name.empty() ? "unknown_service"
                                                                        : resource.service_name);
    service_attribute = nullptr;
  }
  for (const Attribute& attribute : resource.attributes) {
    if (attribute.key == "service.name" && &attribute != service_attribute) continue;
    AddOtlpAttribute(attribute, attributes);
  }
}

void FillOtlpScope(common::InstrumentationScope* out) {
  out->set_name(std::string(kOtlpScopeName));
  out->set_version(std::string(kOtlpScopeVersion));
}

void ParseOtlpTraceResponse(absl::string_view body, int64_t* rejected, std::string* message) {
  ParsePartialSuccess<opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse>(
      body, [](const auto& partial) { return partial.rejected_spans(); }, rejected, message);
}

void ParseOtlpMetricsResponse(absl::string_view body, int64_t* rejected, std::string* message) {
  ParsePartialSuccess<opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse>(
      body, [](const auto& partial) { return partial.rejected_data_points(); }, rejected, message);
}

}  // namespace tracebridge
