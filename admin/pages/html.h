// File: tracebridge/admin/pages/html.h
//
// How the admin pages reach a browser safely. A page is a fixed shell (the
// embedded stylesheet and scripts, admin/pages/assets.h) plus its data as one
// JSON document in `<script type="application/json">`; the page's script
// builds the DOM from that data with `textContent` and attribute setters
// only. Nothing a request, a span or a peer supplied is ever parsed as
// markup, so a hostile span name or attribute stays text:
//
//   - the few server-written texts (title, service name) are HTML-escaped;
//   - the JSON is escaped for its element: `<`, `>`, `&`, U+2028 and U+2029
//     become `\u` escapes, so no `</script>` or comment opener survives;
//   - every page is sent with a Content-Security-Policy that admits only the
//     embedded scripts and styles (by hash) and loads nothing from anywhere,
//     so even an injected handler would not run.
//
// Example:
//
//   Page page;
//   page.title = "Traces";
//   page.service = telemetry.resource().service_name;
//   page.kind = "tracez";
//   page.data_json = TracezJson(...);
//   page.script = &kTracezJs;
//   SendReply(RenderPage(page), response);

#ifndef TRACEBRIDGE_ADMIN_PAGES_HTML_H_
#define TRACEBRIDGE_ADMIN_PAGES_HTML_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/admin/pages/assets.h"
#include "tracebridge/http/endpoints.h"

namespace tracebridge {

// Appends `text` escaped for HTML element text and quoted attribute values
// (`&`, `<`, `>`, `"`, `'`); ill-formed UTF-8 becomes U+FFFD.
void AppendHtmlEscaped(absl::string_view text, std::string* out);

// Appends the JSON document `json` escaped for the inside of a
// `<script type="application/json">` element (see the file comment). `json`
// must be valid JSON: these characters then only occur inside strings, where
// the escapes mean the same.
void AppendJsonForScript(absl::string_view json, std::string* out);

// Whether a request with this Accept header gets a page rather than JSON:
// true when it names text/html (or application/xhtml+xml) with a quality
// above 0 and above that of an explicit application/json. `*/*` alone, an
// empty header or application/json get JSON.
bool AcceptsHtml(absl::string_view accept);

// `text` with %XX sequences decoded and `+` read as a space, as a form's
// GET query is encoded; a malformed escape is kept as it is.
std::string DecodeQueryValue(absl::string_view text);

// The Content-Security-Policy every page is sent with.
std::string PagesContentSecurityPolicy();

// One page to send.
struct Page {
  int status = 200;
  // Shown in the window title (escaped).
  std::string title;
  // The service the page is about (escaped), shown in the header.
  std::string service;
  // Which page: "trace", "tracez" or "rpcz" (a fixed string, not escaped).
  absl::string_view kind;
  // The page's data, a JSON document (escaped for its element).
  std::string data_json;
  // The page's own script (common.js always comes first).
  const PageAsset* script = nullptr;
};

// The complete answer: the HTML document with its security headers
// (Content-Security-Policy, X-Content-Type-Options, Referrer-Policy,
// Cache-Control: no-store).
EndpointReply RenderPage(const Page& page);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_HTML_H_
