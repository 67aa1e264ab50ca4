#include "tracebridge/admin/pages/html.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

// The quality of `type` ("text/html") in an Accept header: its own entry's,
// else nothing from wildcards (see AcceptsHtml); -1 when it is not named.
double NamedQuality(absl::string_view accept, absl::string_view type) {
  double best = -1;
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(parts[0]), type)) continue;
    double q = 1;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view parameter = absl::StripAsciiWhitespace(parts[i]);
      if (absl::ConsumePrefix(&parameter, "q=") || absl::ConsumePrefix(&parameter, "Q=")) {
        if (!absl::SimpleAtod(parameter, &q) || q < 0 || q > 1) q = 0;
      }
    }
    if (q > best) best = q;
  }
  return best;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendHtmlEscaped(absl::string_view text, std::string* out) {
  std::string valid;
  AssignValidUtf8(text, std::string::npos, &valid);
  for (char c : valid) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendJsonForScript(absl::string_view json, std::string* out) {
  out->reserve(out->size() + json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out->append("\\u003c");
    } else if (c == '>') {
      out->append("\\u003e");
    } else if (c == '&') {
      out->append("\\u0026");
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out->append(json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
      i += 2;
    } else {
      out->push_back(c);
    }
  }
}

bool AcceptsHtml(absl::string_view accept) {
  const double html =
      std::max(NamedQuality(accept, "text/html"), NamedQuality(accept, "application/xhtml+xml"));
  return html > 0 && html > NamedQuality(accept, "application/json");
}

std::string DecodeQueryValue(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PagesContentSecurityPolicy() {
  std::string scripts;
  for (const PageAsset* script : {&kCommonJs, &kTraceJs, &kTracezJs, &kRpczJs}) {
    absl::StrAppend(&scripts, " 'sha256-", script->sha256, "'");
  }
  return absl::StrCat("default-src 'none'; script-src", scripts, "; style-src 'sha256-",
                      kPageCss.sha256,
                      "'; img-src data:; form-action 'self'; base-uri 'none'; "
                      "frame-ancestors 'none'");
}

EndpointReply RenderPage(const Page& page) {
  EndpointReply reply;
  reply.status = page.status;
  reply.content_type = "text/html; charset=utf-8";
  std::string& out = reply.body;
  out.reserve(page.data_json.size() + kPageCss.text.size() + kCommonJs.text.size() + 8192);
  out.append(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
  AppendHtmlEscaped(page.title, &out);
  out.append(" \xC2\xB7 ");
  AppendHtmlEscaped(page.service, &out);
  out.append("</title><style>");
  out.append(kPageCss.text.data(), kPageCss.text.size());
  out.append("</style></head>\n<body data-page=\"");
  AppendHtmlEscaped(page.kind, &out);
  out.append(
      "\"><header class=\"top\"><a class=\"brand\" href=\"/tracez\">tracebridge</a>"
      "<span class=\"svc\">");
  AppendHtmlEscaped(page.service, &out);
  out.append(
      "</span><nav><a href=\"/tracez\" data-nav=\"tracez\">Traces</a>"
      "<a href=\"/rpcz\" data-nav=\"rpcz\">RPCs</a>"
      "<a href=\"/metrics\">Prometheus</a><a href=\"/metrics.json\">JSON</a></nav></header>\n"
      "<main id=\"app\"><noscript>These pages are drawn by their embedded script; "
      "the same data is at /metrics.json and /traces/&lt;id&gt; (JSON).</noscript></main>\n"
      "<script type=\"application/json\" id=\"tb-data\">");
  AppendJsonForScript(page.data_json, &out);
  out.append("</script>\n<script>");
  out.append(kCommonJs.text.data(), kCommonJs.text.size());
  out.append("</script>\n<script>");
  if (page.script != nullptr) out.append(page.script->text.data(), page.script->text.size());
  out.append("</script>\n</body></html>\n");
  reply.headers.emplace_back("Content-Security-Policy", PagesContentSecurityPolicy());
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace tracebridge
