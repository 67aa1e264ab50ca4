// Tests for ApplyRepeatedTraceHeaders (http/header_carrier.h) on raw request
// heads: what it combines, what it invalidates, and what it leaves alone.
// The traced router's tests send the same over a real socket.

#include "tracebridge/http/header_carrier.h"

#include <string>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

using Pistache::Http::Header::Collection;
using Pistache::Http::Header::Raw;

// The headers Pistache 0.0.5 keeps for `head`: the first value of each name.
Collection FirstValues(const std::string& head) {
  Collection headers;
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    const size_t end = head.find("\r\n", pos);
    if (end == pos) break;
    const std::string line = head.substr(pos, end - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t value = colon + 1;
      while (value < line.size() && line[value] == ' ') ++value;
      headers.addRaw(Raw(line.substr(0, colon), line.substr(value)));
    }
    pos = end + 2;
  }
  return headers;
}

std::string Value(const Collection& headers, const std::string& name) {
  auto raw = headers.tryGetRaw(name);
  return raw ? raw->value() : "<absent>";
}

TEST(ApplyRepeatedTraceHeadersTest, CombinesListFieldsInOrder) {
  const std::string head =
      "GET / HTTP/1.1\r\nTraceState: a=1\r\nHost: x\r\ntracestate:  b=2 \r\n"
      "BAGGAGE: k=v\r\nbaggage:l=w\r\n\r\ntracestate: body=1\r\n";
  Collection headers = FirstValues(head);
  ApplyRepeatedTraceHeaders(head, &headers);
  EXPECT_EQ(Value(headers, "tracestate"), "a=1,b=2 ");  // the body is not a header
  EXPECT_EQ(Value(headers, "baggage"), "k=v,l=w");
  EXPECT_EQ(Value(headers, "host"), "x");
}

TEST(ApplyRepeatedTraceHeadersTest, RepeatedTraceparentIsRemoved) {
  const std::string head =
      "GET / HTTP/1.1\r\ntraceparent: 00-a-b-01\r\ntracestate: a=1\r\ntraceparent: "
      "00-a-b-01\r\n\r\n";
  Collection headers = FirstValues(head);
  ApplyRepeatedTraceHeaders(head, &headers);
  EXPECT_EQ(Value(headers, "traceparent"), "<absent>");
  EXPECT_EQ(Value(headers, "tracestate"), "a=1");
}

TEST(ApplyRepeatedTraceHeadersTest, SingleLinesAndOtherNamesAreLeftAlone) {
  const std::string head =
      "GET / HTTP/1.1\r\ntraceparent: 00-a-b-01\r\ntracestate: a=1\r\nbaggage: k=v\r\n"
      "X-Custom: 1\r\nX-Custom: 2\r\ntracestate-x: 1\r\nno colon tracestate\r\n\r\n";
  Collection headers = FirstValues(head);
  ApplyRepeatedTraceHeaders(head, &headers);
  EXPECT_EQ(Value(headers, "traceparent"), "00-a-b-01");
  EXPECT_EQ(Value(headers, "tracestate"), "a=1");
  EXPECT_EQ(Value(headers, "baggage"), "k=v");
  EXPECT_EQ(Value(headers, "x-custom"), "1");
  ApplyRepeatedTraceHeaders("", &headers);  // nothing to read: no change
  ApplyRepeatedTraceHeaders("GET / HTTP/1.1\r\ntracestate: a=1\r\ntracestate: b", &headers);
  EXPECT_EQ(Value(headers, "tracestate"), "a=1");  // an unfinished line is not a header
}

}  // namespace
}  // namespace tracebridge
