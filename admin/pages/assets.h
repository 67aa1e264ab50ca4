// File: tracebridge/admin/pages/assets.h
//
// The stylesheet and scripts of the admin pages, compiled into the binary
// from the readable files in admin/pages/assets/ (embed_assets.py writes
// their definitions at build time), so a page needs nothing from anywhere
// else. Each comes with the CSP hash of its text, which the pages send in
// `Content-Security-Policy` so that only these scripts and styles run.
//
// Example:
//
//   out.append("<style>").append(kPageCss.text).append("</style>");
//   csp.append(" 'sha256-").append(kPageCss.sha256).append("'");

#ifndef TRACEBRIDGE_ADMIN_PAGES_ASSETS_H_
#define TRACEBRIDGE_ADMIN_PAGES_ASSETS_H_

#include "absl/strings/string_view.h"

namespace tracebridge {

struct PageAsset {
  // The file's text, exactly as it goes between the <script> or <style> tags.
  absl::string_view text;
  // Base64 of the SHA-256 of `text`: the CSP source is 'sha256-<this>'.
  absl::string_view sha256;
};

// assets/page.css: every page's style.
extern const PageAsset kPageCss;
// assets/common.js: DOM helpers and formatting every page uses.
extern const PageAsset kCommonJs;
// assets/trace.js: the waterfall of one trace and its span details.
extern const PageAsset kTraceJs;
// assets/tracez.js: recent traces and latency buckets per span name.
extern const PageAsset kTracezJs;
// assets/rpcz.js: per method and route figures with latency histograms.
extern const PageAsset kRpczJs;

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_ASSETS_H_
