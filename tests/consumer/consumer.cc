// A program outside the tracebridge workspace that links its public targets.
// Exits 0 only when everything it checks holds.

#include <cstdio>

#include "core/ids.h"

int main() {
  const tracebridge::TraceId trace_id = tracebridge::TraceId::Generate();
  if (!trace_id.IsValid() || tracebridge::TraceId::FromHex(trace_id.ToHex()) != trace_id) {
    std::fprintf(stderr, "consumer: trace id round trip failed\n");
    return 1;
  }
  std::printf("consumer: ok, trace id %s\n", trace_id.ToHex().c_str());
  return 0;
}
