// File: tests/fuzz/fuzz_check.h
//
// `FUZZ_CHECK`: the assertion fuzz targets use. It aborts (which libFuzzer
// and the replay driver both report as a crash) with the failed condition,
// in every build mode: fuzz targets must check their properties even with
// NDEBUG.
//
// Example:
//
//   FUZZ_CHECK(again == parsed);

#ifndef TRACEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
#define TRACEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

#endif  // TRACEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
