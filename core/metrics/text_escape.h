// File: tracebridge/core/metrics/text_escape.h
//
// Text helpers shared by the metrics encoders: escaping for Prometheus label
// values and help text (JSON strings: `AppendJsonString` in core/util/json_writer.h), replacement
// of invalid UTF-8, and locale-independent number formatting. Nothing here depends on the C locale,
// so a process that calls setlocale() still emits parseable output.
//
// Example:
//
//   std::string out;
//   tracebridge::AppendPrometheusLabelValue("say \"hi\"", &out);  // say \"hi\"
//   tracebridge::AppendSecondsFromNs(1'500'000, &out);    // 0.0015
//   tracebridge::AppendDouble(0.25, &out);                // 0.25

#ifndef TRACEBRIDGE_CORE_METRICS_TEXT_ESCAPE_H_
#define TRACEBRIDGE_CORE_METRICS_TEXT_ESCAPE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace tracebridge {

// Appends `text` as the inside of a Prometheus label value (no quotes): `\`,
// `"` and newline escaped, invalid UTF-8 replaced by U+FFFD.
void AppendPrometheusLabelValue(absl::string_view text, std::string* out);

// Appends `text` as Prometheus `# HELP` text: `\` and newline escaped,
// invalid UTF-8 replaced by U+FFFD.
void AppendPrometheusHelp(absl::string_view text, std::string* out);

// Appends the shortest decimal form that reads back as `value` ("0.25",
// "1e-07"); "+Inf", "-Inf" and "NaN" for the non-finite values (as Prometheus
// writes them; JSON callers must pass finite values).
void AppendDouble(double value, std::string* out);

// Appends `ns` nanoseconds as exact decimal seconds ("0.000005", "12.5", "0").
void AppendSecondsFromNs(uint64_t ns, std::string* out);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_TEXT_ESCAPE_H_
