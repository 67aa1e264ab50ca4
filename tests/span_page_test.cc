// ReadSpanPage and the store's page tokens: pages bounded by count and
// bytes, continued without loss or repetition; a span too large alone comes
// trimmed; tokens the store did not issue (for this query) are refused.
// (Over real gRPC and HTTP: list_spans_bounds_test.)

#include "tracebridge/core/export/span_page.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_spans.h"

namespace tracebridge {
namespace {

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kOtherTrace[] = "0af7651916cd43dd8448eb211c80319c";

// A stand-in encoding: the span's name and string attribute bytes.
size_t NameAndValueBytes(const SpanData& span, const Resource*) {
  size_t bytes = span.name.size();
  for (const Attribute& attribute : span.attributes) {
    if (const auto* text = absl::get_if<std::string>(&attribute.value)) bytes += text->size();
  }
  for (const SpanEvent& event : span.events) bytes += event.name.size();
  for (const SpanLink& link : span.links) bytes += 16 + link.attributes.size();
  return bytes;
}

// `count` spans of `trace`, each carrying `attribute_bytes` of attribute.
void Fill(InMemorySpanExporter& store, int count, size_t attribute_bytes,
          const char* trace = kTrace, int first = 0) {
  std::vector<std::unique_ptr<SpanData>> batch;
  for (int i = first; i < first + count; ++i) {
    auto span = testing::MakeSpan(trace, "00f067aa0ba902b7", absl::StrCat("s", i),
                                  1000 + (i % 7) * 10);  // start order differs from export order
    span->attributes.push_back({"blob", std::string(attribute_bytes, 'x')});
    batch.push_back(std::move(span));
  }
  ASSERT_TRUE(store.Export(testing::MakeResource(), batch, absl::InfiniteFuture()).ok());
}

// Pages through `query` with `max_bytes`; every page's bytes within bound.
std::vector<std::string> PageThrough(const InMemorySpanExporter& store, const SpanQuery& query,
                                     size_t max_bytes, int* pages) {
  std::vector<std::string> names;
  std::string token;
  *pages = 0;
  do {
    auto page = ReadSpanPage(store, query, token, "scope", max_bytes, NameAndValueBytes);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(page->bytes, max_bytes);
    EXPECT_LE(page->spans.size(), std::max<size_t>(query.limit, 1));
    for (const PagedSpan& span : page->spans) {
      EXPECT_FALSE(span.truncated);
      names.push_back(span.stored.span->name);
    }
    token = page->next_page_token;
    ++*pages;
  } while (!token.empty() && *pages < 1000);
  return names;
}

TEST(SpanPageTest, PagesStopAtTheByteBoundAndLoseNothing) {
  InMemorySpanExporter store;
  Fill(store, 100, 4096);
  SpanQuery query;
  query.limit = 1000;
  int pages = 0;
  const std::vector<std::string> names = PageThrough(store, query, 64 * 1024, &pages);
  ASSERT_EQ(names.size(), 100u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 100u);
  // 64 KiB holds 15 spans of 4098 bytes: ceil(100 / 15) pages.
  EXPECT_EQ(pages, 7);
  EXPECT_EQ(names.front(), "s99");  // newest first
  EXPECT_EQ(names.back(), "s0");
}

TEST(SpanPageTest, TheCountStillBounds) {
  InMemorySpanExporter store;
  Fill(store, 10, 10);
  SpanQuery query;
  query.limit = 3;
  int pages = 0;
  EXPECT_EQ(PageThrough(store, query, kDefaultSpanPageBytes, &pages).size(), 10u);
  EXPECT_EQ(pages, 4);
}

TEST(SpanPageTest, TracePagesAreInStartOrderAndStillComplete) {
  InMemorySpanExporter store;
  Fill(store, 40, 4096);
  Fill(store, 40, 4096, kOtherTrace, 40);
  SpanQuery query;
  query.trace_id = TraceId::FromHex(kTrace);
  query.limit = 1000;
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = ReadSpanPage(store, query, token, "trace", 32 * 1024, NameAndValueBytes);
    ASSERT_TRUE(page.ok());
    for (size_t i = 0; i < page->spans.size(); ++i) {
      const SpanData& span = *page->spans[i].stored.span;
      EXPECT_EQ(span.context.trace_id().ToHex(), kTrace);
      EXPECT_TRUE(seen.insert(span.name).second) << span.name;
      if (i > 0) {
        EXPECT_LE(page->spans[i - 1].stored.span->start_unix_nanos, span.start_unix_nanos);
      }
    }
    token = page->next_page_token;
    ASSERT_LT(++pages, 100);
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_GT(pages, 1);
}

TEST(SpanPageTest, ASpanTooLargeAloneComesTrimmedAndAlone) {
  InMemorySpanExporter store;
  Fill(store, 1, 100);
  auto huge = testing::MakeSpan(kTrace, "b7ad6b7169203331", "huge", 5000);
  for (int i = 0; i < 40; ++i) {
    huge->attributes.push_back({absl::StrCat("a", i), std::string(1000, 'a')});
  }
  for (int i = 0; i < 30; ++i) huge->events.push_back(SpanEvent{std::string(1000, 'e'), 0, {}, 0});
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::move(huge));
  ASSERT_TRUE(store.Export(testing::MakeResource(), batch, absl::InfiniteFuture()).ok());
  Fill(store, 1, 100, kTrace, 2);

  const size_t bound = kMinSpanPageBytes;  // 16 KiB: the 70 KB span is over it
  SpanQuery query;
  auto first = ReadSpanPage(store, query, "", "scope", bound, NameAndValueBytes);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->spans.size(), 1u);  // the newest; the huge one would not fit after it
  EXPECT_EQ(first->spans[0].stored.span->name, "s2");
  auto second =
      ReadSpanPage(store, query, first->next_page_token, "scope", bound, NameAndValueBytes);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->spans.size(), 1u);
  const PagedSpan& trimmed = second->spans[0];
  EXPECT_TRUE(trimmed.truncated);
  EXPECT_EQ(trimmed.stored.span->name, "huge");
  EXPECT_LE(second->bytes, bound);
  // Every event went first (the attributes alone are 40 KB), then attributes
  // from the last until it fit: 16 of 1000 bytes, plus the name.
  EXPECT_EQ(trimmed.stored.span->events.size(), 0u);
  EXPECT_EQ(trimmed.stored.span->dropped_events, 30u);
  EXPECT_EQ(trimmed.stored.span->attributes.size(), 16u);
  EXPECT_EQ(trimmed.stored.span->dropped_attributes, 24u);
  EXPECT_EQ(trimmed.stored.span->attributes.back().key, "a15");
  // The store's own copy is untouched.
  EXPECT_EQ(store.MostRecent(2)[1].span->attributes.size(), 40u);
  auto third =
      ReadSpanPage(store, query, second->next_page_token, "scope", bound, NameAndValueBytes);
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->spans.size(), 1u);
  EXPECT_EQ(third->spans[0].stored.span->name, "s0");
  EXPECT_TRUE(third->next_page_token.empty());
}

TEST(SpanPageTest, TokensTheStoreDidNotIssueAreRefused) {
  InMemorySpanExporter store;
  InMemorySpanExporter other;
  Fill(store, 10, 10);
  Fill(other, 10, 10);
  SpanQuery query;
  query.limit = 3;
  auto page = ReadSpanPage(store, query, "", "scope", kDefaultSpanPageBytes, NameAndValueBytes);
  ASSERT_TRUE(page.ok());
  const std::string token = page->next_page_token;
  ASSERT_EQ(token.size(), 23u);
  EXPECT_TRUE(
      ReadSpanPage(store, query, token, "scope", kDefaultSpanPageBytes, NameAndValueBytes).ok());

  std::vector<std::string> refused = {
      "7",  // the old decimal cursor
      "bogus",
      std::string(23, 'A'),
      token + "A",
      token.substr(1),
      std::string(100000, 'x'),
      std::string("\0\xff\x80", 3),
  };
  // Every single-character change (flipping the character's top bit, which
  // carries data even in the last character).
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = alphabet[alphabet.find(token[i]) ^ 32];
    refused.push_back(changed);
  }
  for (const std::string& bad : refused) {
    auto result =
        ReadSpanPage(store, query, bad, "scope", kDefaultSpanPageBytes, NameAndValueBytes);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << bad.substr(0, 40);
  }
  // Another query's scope, another store.
  EXPECT_EQ(
      ReadSpanPage(store, query, token, "other scope", kDefaultSpanPageBytes, NameAndValueBytes)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadSpanPage(other, query, token, "scope", kDefaultSpanPageBytes, NameAndValueBytes)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(store.RedeemPageToken(store.IssuePageToken(0, "scope"), "scope").has_value());
  EXPECT_EQ(store.RedeemPageToken(store.IssuePageToken(42, "scope"), "scope"), 42u);
}

}  // namespace
}  // namespace tracebridge
