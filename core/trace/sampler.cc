#include "tracebridge/core/trace/sampler.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tracebridge/core/trace/clock.h"

namespace tracebridge {
namespace {

constexpr uint64_t kRandomBits = 56;
constexpr uint64_t kRandomMask = (uint64_t{1} << kRandomBits) - 1;

// The rejection threshold for `ratio`: ids whose random part is below it are
// dropped. 2^56 means "drop everything", 0 means "keep everything".
uint64_t ThresholdFor(double ratio) {
  if (!(ratio > 0)) return uint64_t{1} << kRandomBits;
  if (ratio >= 1) return 0;
  return static_cast<uint64_t>(std::ldexp(1.0 - ratio, kRandomBits));
}

bool PassesThreshold(const TraceId& trace_id, uint64_t threshold) {
  return (trace_id.Low64() & kRandomMask) >= threshold;
}

class ConstantSampler final : public Sampler {
 public:
  explicit ConstantSampler(bool decision) : decision_(decision) {}
  bool ShouldSample(const SamplingParams&) noexcept override { return decision_; }
  std::string Description() const override { return decision_ ? "AlwaysOn" : "AlwaysOff"; }

 private:
  const bool decision_;
};

class RatioSampler final : public Sampler {
 public:
  explicit RatioSampler(double ratio)
      : ratio_(std::min(1.0, std::max(0.0, std::isnan(ratio) ? 0.0 : ratio))),
        threshold_(ThresholdFor(ratio_)) {}
  bool ShouldSample(const SamplingParams& params) noexcept override {
    return PassesThreshold(params.trace_id, threshold_);
  }
  std::string Description() const override {
    return absl::StrFormat("TraceIdRatioBased{%f}", ratio_);
  }

 private:
  const double ratio_;
  const uint64_t threshold_;
};

class ParentBased final : public Sampler {
 public:
  ParentBased(std::shared_ptr<Sampler> root, ParentBasedOptions options)
      : root_(root ? std::move(root) : AlwaysOnSampler()),
        remote_sampled_(Or(std::move(options.remote_parent_sampled), true)),
        remote_not_sampled_(Or(std::move(options.remote_parent_not_sampled), false)),
        local_sampled_(Or(std::move(options.local_parent_sampled), true)),
        local_not_sampled_(Or(std::move(options.local_parent_not_sampled), false)) {}

  bool ShouldSample(const SamplingParams& params) noexcept override {
    return Delegate(params.parent).ShouldSample(params);
  }

  SamplingResult Sample(const SamplingParams& params) noexcept override {
    return Delegate(params.parent).Sample(params);
  }

  std::string Description() const override {
    return absl::StrCat("ParentBased{root=", root_->Description(),
                        ",remoteParentSampled=", remote_sampled_->Description(),
                        ",remoteParentNotSampled=", remote_not_sampled_->Description(),
                        ",localParentSampled=", local_sampled_->Description(),
                        ",localParentNotSampled=", local_not_sampled_->Description(), "}");
  }

 private:
  Sampler& Delegate(const SpanContext& parent) const noexcept {
    if (!parent.IsValid()) return *root_;
    if (parent.IsRemote()) return parent.IsSampled() ? *remote_sampled_ : *remote_not_sampled_;
    return parent.IsSampled() ? *local_sampled_ : *local_not_sampled_;
  }

  static std::shared_ptr<Sampler> Or(std::shared_ptr<Sampler> sampler, bool fallback) {
    if (sampler) return sampler;
    return fallback ? AlwaysOnSampler() : AlwaysOffSampler();
  }

  const std::shared_ptr<Sampler> root_;
  const std::shared_ptr<Sampler> remote_sampled_;
  const std::shared_ptr<Sampler> remote_not_sampled_;
  const std::shared_ptr<Sampler> local_sampled_;
  const std::shared_ptr<Sampler> local_not_sampled_;
};

// Generic cell rate algorithm: one atomic "theoretical arrival time". A
// request at `now` is admitted when TAT - now stays within the burst
// allowance; admitting advances TAT by one emission interval.
class RateLimiter final : public Sampler {
 public:
  RateLimiter(double per_second, int64_t (*now)())
      : per_second_(per_second > 0 && std::isfinite(per_second) ? per_second : 0),
        interval_nanos_(per_second_ > 0 ? std::max<int64_t>(1, std::llround(1e9 / per_second_))
                                        : 0),
        burst_nanos_(static_cast<int64_t>(std::max(1.0, per_second_)) * interval_nanos_),
        now_(now),
        tat_(now()) {}

  bool ShouldSample(const SamplingParams&) noexcept override {
    if (per_second_ <= 0) return false;
    const int64_t now = now_();
    int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t start = std::max(tat, now);
      if (start + interval_nanos_ - now > burst_nanos_) return false;
      if (tat_.compare_exchange_weak(tat, start + interval_nanos_, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  std::string Description() const override {
    return absl::StrFormat("RateLimiting{%g/s}", per_second_);
  }

 private:
  const double per_second_;
  const int64_t interval_nanos_;
  const int64_t burst_nanos_;
  int64_t (*const now_)();
  std::atomic<int64_t> tat_;
};

class Adaptive final : public Sampler {
 public:
  Adaptive(double target, double min_ratio, double max_ratio, int64_t (*now)())
      : target_(target > 0 && std::isfinite(target) ? target : 0),
        min_ratio_(Clamp01(min_ratio)),
        max_ratio_(std::max(Clamp01(min_ratio), Clamp01(max_ratio))),
        now_(now),
        window_start_(now()),
        threshold_(ThresholdFor(max_ratio_)),
        ratio_bits_(Bits(max_ratio_)) {}

  bool ShouldSample(const SamplingParams& params) noexcept override {
    const int64_t now = now_();
    int64_t start = window_start_.load(std::memory_order_relaxed);
    if (now - start >= kWindowNanos &&
        window_start_.compare_exchange_strong(start, now, std::memory_order_relaxed)) {
      // This thread won the window rollover: re-estimate the ratio.
      const uint64_t candidates = candidates_.exchange(0, std::memory_order_relaxed);
      const double seconds = static_cast<double>(now - start) / 1e9;
      const double rate = static_cast<double>(candidates) / seconds;
      const double ratio = FromBits(ratio_bits_.load(std::memory_order_relaxed));
      const double wanted = rate > 0 ? target_ / rate : max_ratio_;
      const double next = std::min(max_ratio_, std::max(min_ratio_, 0.5 * ratio + 0.5 * wanted));
      ratio_bits_.store(Bits(next), std::memory_order_relaxed);
      threshold_.store(ThresholdFor(next), std::memory_order_relaxed);
    }
    candidates_.fetch_add(1, std::memory_order_relaxed);
    return PassesThreshold(params.trace_id, threshold_.load(std::memory_order_relaxed));
  }

  std::string Description() const override {
    return absl::StrFormat("Adaptive{target=%g/s,min=%g,max=%g,current=%f}", target_, min_ratio_,
                           max_ratio_, FromBits(ratio_bits_.load(std::memory_order_relaxed)));
  }

 private:
  static constexpr int64_t kWindowNanos = 1000000000;
  static double Clamp01(double x) { return std::isnan(x) ? 0 : std::min(1.0, std::max(0.0, x)); }
  static uint64_t Bits(double x) {
    uint64_t bits;
    std::memcpy(&bits, &x, sizeof(bits));
    return bits;
  }
  static double FromBits(uint64_t bits) {
    double x;
    std::memcpy(&x, &bits, sizeof(x));
    return x;
  }

  const double target_;
  const double min_ratio_;
  const double max_ratio_;
  int64_t (*const now_)();
  std::atomic<int64_t> window_start_;
  std::atomic<uint64_t> candidates_{0};
  std::atomic<uint64_t> threshold_;
  std::atomic<uint64_t> ratio_bits_;
};

// Record-only for every span; at the end, error spans `admit` agrees to.
class ErrorSpans final : public Sampler, private SpanEndDecider {
 public:
  explicit ErrorSpans(std::shared_ptr<Sampler> admit)
      : admit_(admit ? std::move(admit) : AlwaysOnSampler()) {}

  bool ShouldSample(const SamplingParams&) noexcept override { return false; }

  SamplingResult Sample(const SamplingParams&) noexcept override {
    return {SamplingDecision::kRecordOnly, this};
  }

  std::string Description() const override {
    return absl::StrCat("ErrorSpans{", admit_->Description(), "}");
  }

 private:
  bool ExportAtEnd(const SpanData& span) noexcept override {
    if (span.status != StatusCode::kError) return false;
    static const SpanContext kNoParent;
    return admit_->ShouldSample(
        SamplingParams{kNoParent, span.context.trace_id(), span.name, span.kind});
  }

  const std::shared_ptr<Sampler> admit_;
};

}  // namespace

std::shared_ptr<Sampler> AlwaysOnSampler() {
  static const std::shared_ptr<Sampler> sampler = std::make_shared<ConstantSampler>(true);
  return sampler;
}

std::shared_ptr<Sampler> AlwaysOffSampler() {
  static const std::shared_ptr<Sampler> sampler = std::make_shared<ConstantSampler>(false);
  return sampler;
}

std::shared_ptr<Sampler> TraceIdRatioSampler(double ratio) {
  return std::make_shared<RatioSampler>(ratio);
}

std::shared_ptr<Sampler> ParentBasedSampler(std::shared_ptr<Sampler> root,
                                            ParentBasedOptions options) {
  return std::make_shared<ParentBased>(std::move(root), std::move(options));
}

std::shared_ptr<Sampler> RateLimitingSampler(double traces_per_second) {
  return std::make_shared<RateLimiter>(traces_per_second, &MonotonicNanosNow);
}

std::shared_ptr<Sampler> AdaptiveSampler(double target_per_second, double min_ratio,
                                         double max_ratio) {
  return std::make_shared<Adaptive>(target_per_second, min_ratio, max_ratio, &MonotonicNanosNow);
}

std::shared_ptr<Sampler> ErrorSpansSampler(std::shared_ptr<Sampler> admit) {
  return std::make_shared<ErrorSpans>(std::move(admit));
}

namespace internal {
std::shared_ptr<Sampler> AdaptiveSamplerWithClock(double target_per_second, double min_ratio,
                                                  double max_ratio, int64_t (*now_nanos)()) {
  return std::make_shared<Adaptive>(target_per_second, min_ratio, max_ratio, now_nanos);
}
std::shared_ptr<Sampler> RateLimitingSamplerWithClock(double traces_per_second,
                                                      int64_t (*now_nanos)()) {
  return std::make_shared<RateLimiter>(traces_per_second, now_nanos);
}
}  // namespace internal

}  // namespace tracebridge
