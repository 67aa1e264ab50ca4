#include "tracebridge/v1/histogram_conversion.h"

namespace tracebridge {

ExponentialHistogram HistogramFromProto(const v1::ExponentialHistogram& proto) {
  ExponentialHistogram histogram;
  histogram.scale = proto.scale();
  histogram.count = proto.count();
  histogram.sum = proto.sum();
  if (proto.has_min()) histogram.min = proto.min();
  if (proto.has_max()) histogram.max = proto.max();
  histogram.zero_count = proto.zero_count();
  histogram.zero_threshold = proto.zero_threshold();
  histogram.offset = proto.positive().offset();
  histogram.bucket_counts.assign(proto.positive().bucket_counts().begin(),
                                 proto.positive().bucket_counts().end());
  return histogram;
}

void HistogramToProto(const ExponentialHistogram& histogram, v1::ExponentialHistogram* proto) {
  proto->Clear();
  proto->set_count(histogram.count);
  proto->set_sum(histogram.sum);
  if (histogram.min.has_value()) proto->set_min(*histogram.min);
  if (histogram.max.has_value()) proto->set_max(*histogram.max);
  proto->set_scale(histogram.scale);
  proto->set_zero_count(histogram.zero_count);
  proto->set_zero_threshold(histogram.zero_threshold);
  proto->mutable_positive()->set_offset(histogram.offset);
  proto->mutable_positive()->mutable_bucket_counts()->Add(histogram.bucket_counts.begin(),
                                                          histogram.bucket_counts.end());
}

}  // namespace tracebridge
