// File: tracebridge/collector/line_protocol.h
//
// InfluxDB 1.x line protocol: one point per line,
//
//   measurement,tag=value,tag=value field=value,field=value timestamp
//
// written so that InfluxDB 1.6's parser reads back exactly the names and
// values given (tests/collector_influx_test.cc writes awkward names to a real
// InfluxDB and queries them back). The rules:
//
//   - measurement: `,` and ` ` are escaped with a backslash;
//   - tag keys, tag values and field keys: `,`, `=` and ` ` are escaped;
//   - string field values are double-quoted, with `"` and `\` escaped;
//   - integer fields carry an `i` suffix, floats are written with 17
//     significant digits (exact round trip), booleans as true/false;
//   - a backslash in a name is kept literally, except where 1.x cannot read
//     it back (at the end of a name, or before a character that is escaped):
//     there it is written as `/`;
//   - line feeds and carriage returns end a line, so in names they are
//     written as spaces (string field values keep them: they are quoted);
//   - a tag with an empty key or value, a field with an empty key, and a
//     non-finite float field are left out (1.x refuses them); a point left
//     with no field is not written at all (`AppendLineProtocol` says false).
//
// Example:
//
//   tracebridge::LinePoint point;
//   point.measurement = "rpc_server";
//   point.tags = {{"service", "orders"}, {"method", "shop.Orders/Get"}};
//   point.fields = {{"count", int64_t{12}}, {"p99_seconds", 0.0042}};
//   point.timestamp = 1700000000000;  // in the write's precision
//   std::string body;
//   tracebridge::AppendLineProtocol(point, &body);

#ifndef TRACEBRIDGE_COLLECTOR_LINE_PROTOCOL_H_
#define TRACEBRIDGE_COLLECTOR_LINE_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/variant.h"

namespace tracebridge {

// A field's value: integer (`i` suffix), float, boolean or string.
using LineFieldValue = absl::variant<int64_t, double, bool, std::string>;

struct LinePoint {
  std::string measurement;
  // Written in this order (InfluxDB prefers tags sorted by key; the
  // collector builds them sorted).
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::pair<std::string, LineFieldValue>> fields;
  // In the unit of the write's `precision`.
  int64_t timestamp = 0;
};

// Appends `point` as one line (with its trailing newline) to `*out`. False,
// and nothing appended, when the point has no measurement or no writable
// field.
bool AppendLineProtocol(const LinePoint& point, std::string* out);

// `name` as a measurement, a tag key or value, or a field key (see the file
// comment); exposed for tests.
std::string EscapeLineMeasurement(absl::string_view name);
std::string EscapeLineKey(absl::string_view name);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_COLLECTOR_LINE_PROTOCOL_H_
