// The interceptors' lock-free tables: the per-method table found by gRPC's
// method-name pointer (interceptors/method_table.h) and the server-span
// directory behind ServerSpan (interceptors/span_directory.h).

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/interceptors/method_table.h"
#include "tracebridge/interceptors/span_directory.h"

namespace tracebridge {
namespace {

using internal::MethodInfo;
using internal::MethodTable;
using internal::SpanDirectory;

TEST(MethodTableTest, WorksEachMethodOutOnceAndSplitsItsName) {
  int made = 0;
  MethodTable table([&made](absl::string_view, MethodInfo* info) {
    ++made;
    info->traced = true;
  });
  static const char kMethod[] = "/pkg.Service/Method";
  const MethodInfo* info = table.Find(kMethod);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->full_method, "/pkg.Service/Method");
  EXPECT_EQ(info->span_name, "pkg.Service/Method");
  EXPECT_EQ(info->service, "pkg.Service");
  EXPECT_EQ(info->method, "Method");
  EXPECT_TRUE(info->traced);
  EXPECT_EQ(table.Find(kMethod), info);
  // The same name at another address (a generic call's string): same entry.
  const std::string copy = kMethod;
  EXPECT_EQ(table.Find(copy.c_str()), info);
  EXPECT_EQ(made, 1);

  const MethodInfo* odd = table.Find("no-slash");
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(odd->span_name, "no-slash");
  EXPECT_TRUE(odd->service.empty());
  EXPECT_EQ(table.Find(nullptr)->full_method, "");
}

// A generic call's name buffer can hold another method's name on a later
// call: the address alone must never decide.
TEST(MethodTableTest, AnAddressReusedForAnotherNameFindsThatName) {
  MethodTable table([](absl::string_view, MethodInfo*) {});
  char buffer[32];
  std::strcpy(buffer, "/a.A/First");
  EXPECT_EQ(table.Find(buffer)->full_method, "/a.A/First");
  std::strcpy(buffer, "/b.B/Second");
  EXPECT_EQ(table.Find(buffer)->full_method, "/b.B/Second");
  std::strcpy(buffer, "/a.A/First");
  EXPECT_EQ(table.Find(buffer)->full_method, "/a.A/First");
}

// Generic calls: one name under a new address each call. Every copy finds
// the one entry (made once), and the addresses do not crowd out a method
// first seen afterwards.
TEST(MethodTableTest, PerCallCopiesOfANameShareItsEntry) {
  int made = 0;
  MethodTable table([&made](absl::string_view, MethodInfo*) { ++made; });
  const MethodInfo* first = nullptr;
  // Kept alive, so that each copy has an address of its own.
  std::vector<std::string> copies(3 * MethodTable::kSlots, "/g.GenericService/Call");
  for (const std::string& copy : copies) {
    const MethodInfo* info = table.Find(copy.c_str());
    ASSERT_NE(info, nullptr);
    if (first == nullptr) first = info;
    ASSERT_EQ(info, first);
  }
  EXPECT_EQ(made, 1);
  static const char kLater[] = "/r.Registered/Later";
  const MethodInfo* later = table.Find(kLater);
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->full_method, kLater);
  EXPECT_EQ(table.Find(kLater), later);
  EXPECT_EQ(made, 2);
}

TEST(MethodTableTest, NamesPastTheBoundAreLeftToTheCaller) {
  MethodTable table([](absl::string_view, MethodInfo*) {});
  std::vector<std::string> names;
  for (size_t i = 0; i < MethodTable::kMaxMethods; ++i)
    names.push_back("/s.S/M" + std::to_string(i));
  for (const std::string& name : names) ASSERT_NE(table.Find(name.c_str()), nullptr);
  EXPECT_EQ(table.Find("/s.S/OneTooMany"), nullptr);
  EXPECT_NE(table.Find(names[0].c_str()), nullptr);  // known names still found
  MethodInfo info;
  table.Make("/s.S/OneTooMany", RpcType::kServerStreaming, &info);
  EXPECT_EQ(info.span_name, "s.S/OneTooMany");
  EXPECT_EQ(info.type, RpcType::kServerStreaming);
}

TEST(MethodTableTest, ConcurrentFirstCallsAgree) {
  std::atomic<int> made{0};
  MethodTable table([&made](absl::string_view, MethodInfo*) { made.fetch_add(1); });
  static const char kMethod[] = "/pkg.Service/Concurrent";
  std::vector<const MethodInfo*> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) seen[t] = table.Find(kMethod);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const MethodInfo* info : seen) EXPECT_EQ(info, seen[0]);
  EXPECT_EQ(made.load(), 1);
}

TEST(SpanDirectoryTest, PutGetErase) {
  SpanDirectory directory;
  Span a, b;
  int key_a = 0, key_b = 0;
  const auto ticket_a = directory.Put(&key_a, &a);
  const auto ticket_b = directory.Put(&key_b, &b);
  EXPECT_EQ(directory.Get(&key_a), &a);
  EXPECT_EQ(directory.Get(&key_b), &b);
  directory.Erase(&key_a, ticket_a);
  EXPECT_EQ(directory.Get(&key_a), nullptr);
  EXPECT_EQ(directory.Get(&key_b), &b);
  directory.Erase(&key_b, ticket_b);
  EXPECT_EQ(directory.Get(&key_b), nullptr);
}

// More live keys than one probe window holds: the rest go to the overflow
// map and are still found, and erased.
TEST(SpanDirectoryTest, KeysBeyondTheSlotsOverflowAndAreStillFound) {
  SpanDirectory directory;
  constexpr size_t kKeys = SpanDirectory::kSlots + 100;
  std::vector<char> keys(kKeys);
  Span span;
  std::vector<SpanDirectory::Ticket> tickets;
  for (size_t i = 0; i < kKeys; ++i) tickets.push_back(directory.Put(&keys[i], &span));
  EXPECT_GE(directory.overflow_size(), 100u);
  for (size_t i = 0; i < kKeys; ++i) ASSERT_EQ(directory.Get(&keys[i]), &span) << i;
  for (size_t i = 0; i < kKeys; ++i) directory.Erase(&keys[i], tickets[i]);
  EXPECT_EQ(directory.overflow_size(), 0u);
  for (size_t i = 0; i < kKeys; ++i) ASSERT_EQ(directory.Get(&keys[i]), nullptr) << i;
}

TEST(SpanDirectoryTest, ConcurrentCallsFindTheirOwnSpans) {
  SpanDirectory directory;
  constexpr int kThreads = 4;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<char> keys(64);
      Span span;
      for (int round = 0; round < 500; ++round) {
        std::vector<SpanDirectory::Ticket> tickets;
        for (char& key : keys) tickets.push_back(directory.Put(&key, &span));
        for (char& key : keys) {
          if (directory.Get(&key) != &span) wrong.fetch_add(1);
        }
        for (size_t i = 0; i < keys.size(); ++i) directory.Erase(&keys[i], tickets[i]);
        for (char& key : keys) {
          if (directory.Get(&key) != nullptr) wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace tracebridge
