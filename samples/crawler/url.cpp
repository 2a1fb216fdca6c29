#include "url.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace crawl {

std::string url_parts::origin() const {
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

std::string url_parts::site() const { return host + (port.empty() ? "" : ":" + port); }

namespace {

struct curlu_free {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
using curlu = std::unique_ptr<CURLU, curlu_free>;

// A part of the URL in `h`, or "" if it has none.
std::string get(CURLU* h, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(h, part, &text, flags) != CURLUE_OK || text == nullptr) return {};
  std::string out(text);
  curl_free(text);
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What a browser does to an href before parsing it: surrounding spaces
// dropped, tabs and newlines removed, the fragment cut, and spaces, control
// and non-ASCII bytes percent-encoded (curl_url refuses them raw).
std::string clean(std::string_view href) {
  href = href.substr(0, href.find('#'));
  while (!href.empty() && static_cast<unsigned char>(href.front()) <= ' ') href.remove_prefix(1);
  while (!href.empty() && static_cast<unsigned char>(href.back()) <= ' ') href.remove_suffix(1);
  std::string out;
  out.reserve(href.size());
  for (const char ch : href) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c <= ' ' || c >= 0x7f) {
      constexpr const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

std::optional<url_parts> resolve(const std::string& base, std::string_view href) {
  const std::string ref = clean(href);
  const curlu h(curl_url());
  if (!h) return std::nullopt;
  if (!base.empty() && curl_url_set(h.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  if (ref.empty()) {
    if (base.empty()) return std::nullopt;  // "" or "#top": the base itself
  } else if (curl_url_set(h.get(), CURLUPART_URL, ref.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;  // relative to the base if it is relative
  }
  curl_url_set(h.get(), CURLUPART_FRAGMENT, nullptr, 0);

  url_parts u;
  u.scheme = lower(get(h.get(), CURLUPART_SCHEME));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  u.host = lower(get(h.get(), CURLUPART_HOST));
  if (u.host.empty()) return std::nullopt;
  curl_url_set(h.get(), CURLUPART_HOST, u.host.c_str(), 0);
  u.port = get(h.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
  u.path = get(h.get(), CURLUPART_PATH);
  if (u.path.empty()) u.path = "/";
  if (const std::string q = get(h.get(), CURLUPART_QUERY); !q.empty()) u.path += "?" + q;
  u.url = get(h.get(), CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
  if (u.url.empty()) return std::nullopt;
  return u;
}

}  // namespace crawl
