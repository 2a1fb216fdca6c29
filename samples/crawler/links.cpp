#include "links.hpp"

#include <cctype>
#include <charconv>
#include <cstddef>

namespace crawl {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Where `needle` (lower case) starts in `s` from `from` on, ignoring case.
std::size_t ifind(std::string_view s, std::string_view needle, std::size_t from) {
  for (std::size_t i = from; i + needle.size() <= s.size(); ++i) {
    if (iequal(s.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

// &amp; &lt; &gt; &quot; &apos; and numeric references to ASCII; anything
// else is kept as written.
std::string decode(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') {
      out += v[i];
      continue;
    }
    const auto semi = v.find(';', i);
    if (semi == std::string_view::npos || semi - i > 8) {
      out += '&';
      continue;
    }
    const std::string_view name = v.substr(i + 1, semi - i - 1);
    char c = 0;
    if (name == "amp") {
      c = '&';
    } else if (name == "lt") {
      c = '<';
    } else if (name == "gt") {
      c = '>';
    } else if (name == "quot") {
      c = '"';
    } else if (name == "apos") {
      c = '\'';
    } else if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      unsigned code = 0;
      const auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
      if (ec == std::errc{} && end == digits.data() + digits.size() && code > 0 && code < 128) {
        c = static_cast<char>(code);
      }
    }
    if (c == 0) {
      out += '&';
      continue;
    }
    out += c;
    i = semi;
  }
  return out;
}

}  // namespace

std::vector<std::string> extract_links(std::string_view html, std::string* base) {
  std::vector<std::string> out;
  if (base != nullptr) base->clear();
  bool have_base = false;
  const std::size_t n = html.size();
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    if (html.substr(i).starts_with("<!--")) {
      const auto end = html.find("-->", i + 4);
      if (end == std::string_view::npos) break;
      i = end + 3;
      continue;
    }
    std::size_t k = i + 1;
    while (k < n && std::isalnum(static_cast<unsigned char>(html[k])) != 0) ++k;
    const std::string_view name = html.substr(i + 1, k - i - 1);
    if (name.empty()) {  // "</a>", "<!doctype ...>", a stray '<'
      ++i;
      continue;
    }
    // The attributes, up to the '>' that ends the tag.
    std::string_view href;
    bool has_href = false;
    while (k < n) {
      while (k < n && (is_space(html[k]) || html[k] == '/')) ++k;
      if (k >= n) break;
      if (html[k] == '>') {
        ++k;
        break;
      }
      const std::size_t a = k;
      while (k < n && !is_space(html[k]) && html[k] != '=' && html[k] != '>' && html[k] != '/') {
        ++k;
      }
      const std::string_view attr = html.substr(a, k - a);
      if (attr.empty()) {  // a stray '=' or quote
        ++k;
        continue;
      }
      std::size_t m = k;
      while (m < n && is_space(html[m])) ++m;
      std::string_view value;
      if (m < n && html[m] == '=') {
        ++m;
        while (m < n && is_space(html[m])) ++m;
        if (m < n && (html[m] == '"' || html[m] == '\'')) {
          const auto close = html.find(html[m], m + 1);
          const std::size_t end = close == std::string_view::npos ? n : close;
          value = html.substr(m + 1, end - m - 1);
          m = end == n ? n : end + 1;
        } else {
          const std::size_t v = m;
          while (m < n && !is_space(html[m]) && html[m] != '>') ++m;
          value = html.substr(v, m - v);
        }
        k = m;
      }
      if (!has_href && iequal(attr, "href")) {
        href = value;
        has_href = true;
      }
    }
    i = k;
    if (iequal(name, "script") || iequal(name, "style")) {  // raw text up to the end tag
      const std::string end_tag = iequal(name, "script") ? "</script" : "</style";
      const auto end = ifind(html, end_tag, i);
      if (end == std::string_view::npos) break;
      i = end;
    } else if (has_href && (iequal(name, "a") || iequal(name, "area"))) {
      out.push_back(decode(href));
    } else if (has_href && iequal(name, "base") && base != nullptr && !have_base) {
      *base = decode(href);
      have_base = true;
    }
  }
  return out;
}

}  // namespace crawl
