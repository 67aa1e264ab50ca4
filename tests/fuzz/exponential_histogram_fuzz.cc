// Fuzzes the collector-side histogram operations with histograms a peer
// could send (tracebridge.v1.ExponentialHistogram, converted field by
// field): any input may be rejected by Validate, but none may crash, and for
// two valid inputs a and b:
//   merge(a, b) is valid, holds a.count + b.count values in at most
//     max_buckets buckets, or is refused with InvalidArgument;
//   merge(a, b) − a succeeds and holds exactly b's count and zero count;
//   a downscaled copy is valid and keeps its count;
//   every quantile is finite and within [min, max] when they are known.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/metrics/exponential_histogram.h"

namespace tracebridge {
namespace {

// Reads the input front to back; past the end it yields zeros.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  template <typename T>
  T Raw() {
    uint8_t bytes[sizeof(T)] = {};
    for (uint8_t& b : bytes) b = Byte();
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

ExponentialHistogram Decode(Reader& in) {
  ExponentialHistogram h;
  const uint8_t flags = in.Byte();
  h.scale = static_cast<int32_t>(in.Byte() % 40) - 15;  // mostly in range
  h.offset = (flags & 1) != 0 ? in.Raw<int32_t>() : static_cast<int8_t>(in.Byte()) * 8;
  constexpr double kThresholds[] = {0, 1e-6, 0x1p-20, 0.5, 1, 3e5};
  h.zero_threshold = (flags & 2) != 0 ? in.Raw<double>() : kThresholds[in.Byte() % 6];
  h.zero_count = in.Byte() % 4;
  const size_t buckets = in.Byte() % 40;
  for (size_t k = 0; k < buckets; ++k) {
    h.bucket_counts.push_back((flags & 4) != 0 ? in.Raw<uint64_t>() : in.Byte() % 5);
  }
  h.count = h.zero_count;
  for (uint64_t c : h.bucket_counts) h.count += c;
  if ((flags & 8) != 0) h.count = in.Raw<uint64_t>();  // usually inconsistent
  h.sum = (flags & 16) != 0 ? in.Raw<double>() : static_cast<double>(h.count) * 0.25;
  if ((flags & 32) != 0) h.min = (flags & 128) != 0 ? in.Raw<double>() : 0.0;
  if ((flags & 64) != 0) h.max = (flags & 128) != 0 ? in.Raw<double>() : 1e9;
  return h;
}

void CheckQuantiles(const ExponentialHistogram& h) {
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    const double estimate = h.Quantile(q);
    if (!h.Validate().ok()) continue;  // invalid: only "no crash"
    FUZZ_CHECK(!std::isnan(estimate));
    if (h.count > 0 && h.min.has_value() && h.max.has_value() && std::isfinite(*h.min) &&
        std::isfinite(*h.max)) {
      FUZZ_CHECK(estimate >= *h.min && estimate <= *h.max);
    }
  }
}

}  // namespace
}  // namespace tracebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tracebridge;  // NOLINT: a fuzz entry point
  Reader in(data, size);
  const ExponentialHistogram a = Decode(in);
  const ExponentialHistogram b = Decode(in);
  const size_t max_buckets = in.Byte() * 16;
  CheckQuantiles(a);
  CheckQuantiles(b);
  if (!a.Validate().ok() || !b.Validate().ok()) {
    FUZZ_CHECK(MergeHistograms(a, b).status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(SubtractHistograms(a, b).status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(a, b, max_buckets);
  if (!merged.ok()) {
    FUZZ_CHECK(merged.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(merged->Validate().ok());
  FUZZ_CHECK(merged->count == a.count + b.count);
  FUZZ_CHECK(merged->bucket_counts.size() <= (max_buckets == 0 ? 1 : max_buckets));
  CheckQuantiles(*merged);
  absl::StatusOr<ExponentialHistogram> back = SubtractHistograms(*merged, a);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->Validate().ok());
  FUZZ_CHECK(back->count == b.count);
  CheckQuantiles(*back);
  ExponentialHistogram coarse = a;
  coarse.Downscale(static_cast<int32_t>(in.Byte() % 40));
  FUZZ_CHECK(coarse.Validate().ok());
  FUZZ_CHECK(coarse.count == a.count);
  return 0;
}
