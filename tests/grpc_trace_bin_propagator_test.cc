// OpenCensus `grpc-trace-bin` propagation: the 29-byte layout and the
// spec's lenient parsing rules.

#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {
namespace {

SpanContext Sentinel() {
  return SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                     SpanId::FromHex("b7ad6b7169203331"), TraceFlags(0), /*is_remote=*/false);
}

// The OpenCensus spec's valid example.
const uint8_t kSpecExample[] = {0,  0,  75, 249, 47, 53,  119, 179, 77, 166, 163, 206, 146, 157, 0,
                                14, 71, 54, 1,   52, 240, 103, 170, 11, 169, 2,   183, 2,   1};

std::string Bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

SpanContext ExtractBytes(const std::string& bytes) {
  VectorCarrier carrier;
  carrier.Set("grpc-trace-bin", bytes);
  PropagatedContext context;
  context.span_context = Sentinel();
  GrpcTraceBinPropagator().Extract(carrier, &context);
  return context.span_context;
}

TEST(GrpcTraceBinPropagatorTest, SpecExample) {
  const SpanContext context = ExtractBytes(Bytes(kSpecExample, sizeof(kSpecExample)));
  EXPECT_EQ(context.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d000e4736");
  EXPECT_EQ(context.span_id().ToHex(), "34f067aa0ba902b7");
  EXPECT_TRUE(context.IsSampled());
  EXPECT_EQ(context.trace_flags().bits(), TraceFlags::kSampled);
  EXPECT_TRUE(context.IsRemote());
}

TEST(GrpcTraceBinPropagatorTest, FormatLayoutByteByByte) {
  const SpanContext context(TraceId::FromHex("4bf92f3577b34da6a3ce929d000e4736"),
                            SpanId::FromHex("34f067aa0ba902b7"), TraceFlags::Sampled(), false);
  uint8_t out[GrpcTraceBinPropagator::kSize];
  ASSERT_TRUE(GrpcTraceBinPropagator::Format(context, out));
  static_assert(GrpcTraceBinPropagator::kSize == 29, "29 bytes");
  EXPECT_EQ(out[0], 0);  // version
  EXPECT_EQ(out[1], 0);  // trace id field
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(out[2 + i], context.trace_id().bytes()[i]) << i;
  EXPECT_EQ(out[18], 1);  // span id field
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(out[19 + i], context.span_id().bytes()[i]) << i;
  EXPECT_EQ(out[27], 2);  // trace options field
  EXPECT_EQ(out[28], 1);  // sampled; the W3C random bit is not carried
  EXPECT_EQ(Bytes(out, sizeof(out)), Bytes(kSpecExample, sizeof(kSpecExample)));

  const SpanContext unsampled(context.trace_id(), context.span_id(), TraceFlags(0), false);
  ASSERT_TRUE(GrpcTraceBinPropagator::Format(unsampled, out));
  EXPECT_EQ(out[28], 0);
}

TEST(GrpcTraceBinPropagatorTest, InjectWritesRawBytes) {
  PropagatedContext context;
  context.span_context = ExtractBytes(Bytes(kSpecExample, sizeof(kSpecExample)));
  VectorCarrier carrier;
  GrpcTraceBinPropagator().Inject(context, &carrier);
  ASSERT_EQ(carrier.entries().size(), 1u);
  EXPECT_EQ(carrier.entries()[0].first, "grpc-trace-bin");
  EXPECT_EQ(carrier.entries()[0].second, Bytes(kSpecExample, sizeof(kSpecExample)));

  VectorCarrier empty;
  GrpcTraceBinPropagator().Inject(PropagatedContext(), &empty);
  EXPECT_TRUE(empty.entries().empty());
}

TEST(GrpcTraceBinPropagatorTest, TraceOptionsAreOptional) {
  // 27 bytes: version, trace id, span id; options default to not sampled.
  const SpanContext context = ExtractBytes(Bytes(kSpecExample, 27));
  EXPECT_EQ(context.span_id().ToHex(), "34f067aa0ba902b7");
  EXPECT_FALSE(context.IsSampled());
}

TEST(GrpcTraceBinPropagatorTest, OnlyTheSampledBitIsRead) {
  std::string bytes = Bytes(kSpecExample, sizeof(kSpecExample));
  bytes[28] = static_cast<char>(0xfe);
  EXPECT_EQ(ExtractBytes(bytes).trace_flags().bits(), 0);
  bytes[28] = static_cast<char>(0xff);
  EXPECT_EQ(ExtractBytes(bytes).trace_flags().bits(), TraceFlags::kSampled);
}

TEST(GrpcTraceBinPropagatorTest, LaterUnknownFieldsAreIgnored) {
  const SpanContext expected = ExtractBytes(Bytes(kSpecExample, sizeof(kSpecExample)));
  std::string bytes = Bytes(kSpecExample, sizeof(kSpecExample));
  bytes += std::string("\x03\x01\x02\x03", 4);  // a newer field
  EXPECT_EQ(ExtractBytes(bytes), expected);
  // An unknown field where the options would be: stop reading, not sampled.
  std::string no_options = Bytes(kSpecExample, 27) + std::string("\x07\x01", 2);
  const SpanContext context = ExtractBytes(no_options);
  EXPECT_EQ(context.span_id(), expected.span_id());
  EXPECT_FALSE(context.IsSampled());
}

TEST(GrpcTraceBinPropagatorTest, MalformedLeavesContextUntouched) {
  const std::string valid = Bytes(kSpecExample, sizeof(kSpecExample));
  std::vector<std::string> cases;
  cases.push_back("");
  for (size_t size : {1, 2, 10, 17, 18, 19, 26}) cases.push_back(valid.substr(0, size));
  cases.push_back(valid.substr(0, 28));  // options field cut short
  std::string bad_version = valid;
  bad_version[0] = 1;
  cases.push_back(bad_version);
  std::string bad_trace_field = valid;
  bad_trace_field[1] = 1;
  cases.push_back(bad_trace_field);
  std::string bad_span_field = valid;
  bad_span_field[18] = 2;
  cases.push_back(bad_span_field);
  std::string zero_trace = valid;
  for (size_t i = 2; i < 18; ++i) zero_trace[i] = 0;
  cases.push_back(zero_trace);
  std::string zero_span = valid;
  for (size_t i = 19; i < 27; ++i) zero_span[i] = 0;
  cases.push_back(zero_span);
  for (const std::string& bytes : cases) {
    EXPECT_EQ(ExtractBytes(bytes), Sentinel()) << "size " << bytes.size();
  }
}

TEST(GrpcTraceBinPropagatorTest, NameAndFields) {
  EXPECT_EQ(GrpcTraceBinPropagator().Name(), "grpc-trace-bin");
  ASSERT_EQ(GrpcTraceBinPropagator().Fields().size(), 1u);
  EXPECT_EQ(GrpcTraceBinPropagator().Fields()[0], "grpc-trace-bin");
}

TEST(GrpcTraceBinPropagatorTest, RoundTripRandomIds) {
  for (int i = 0; i < 1000; ++i) {
    PropagatedContext out;
    out.span_context = SpanContext(TraceId::Generate(), SpanId::Generate(),
                                   TraceFlags(static_cast<uint8_t>(i & 3)), false);
    VectorCarrier carrier;
    GrpcTraceBinPropagator().Inject(out, &carrier);
    PropagatedContext in;
    GrpcTraceBinPropagator().Extract(carrier, &in);
    EXPECT_EQ(in.span_context.trace_id(), out.span_context.trace_id());
    EXPECT_EQ(in.span_context.span_id(), out.span_context.span_id());
    EXPECT_EQ(in.span_context.IsSampled(), out.span_context.IsSampled());
  }
}

}  // namespace
}  // namespace tracebridge
