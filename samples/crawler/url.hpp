#pragma once
// URLs for the crawler sample, on libcurl's URL API (curl_url): relative
// references resolved against a page's URL the RFC 3986 way (./, ../,
// /absolute, //host, ?query), fragments dropped, and one spelling per URL so
// the crawl can de-duplicate them.
#include <optional>
#include <string>
#include <string_view>

namespace crawl {

/// An absolute http or https URL, taken apart.
struct url_parts {
  std::string url;     ///< normalized: lower-case scheme and host, no default port, no fragment
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< lower case
  std::string port;    ///< empty when it is the scheme's default
  std::string path;    ///< the path and the query: "/a/b?c"

  /// "http://host[:port]"
  [[nodiscard]] std::string origin() const;
  /// "host[:port]": what "the same host" compares (http and https alike)
  [[nodiscard]] std::string site() const;
};

/// `href` resolved against `base` (an absolute URL, or empty for an absolute
/// `href`), normalized; nullopt when the result does not parse or is not an
/// http or https URL (mailto:, javascript:, ftp:, ...).
std::optional<url_parts> resolve(const std::string& base, std::string_view href);

/// An absolute http or https URL, normalized; nullopt otherwise.
inline std::optional<url_parts> parse_url(std::string_view text) { return resolve({}, text); }

}  // namespace crawl
